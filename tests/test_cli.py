from __future__ import annotations

from pathlib import Path

import pytest

from vulndesk.accounts.models import ApiToken, User, token_digest
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.cli import build_parser, main
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project

from .conftest import EXAMPLES

pytestmark = pytest.mark.django_db

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["serve"],
        ["worker"],
        ["migrate"],
        ["setup"],
        ["audit", "verify"],
        ["user", "create"],
        ["token", "create"],
        ["keys", "rotate"],
        ["smtpd"],
        ["policy", "import"],
        ["policy", "export"],
        ["policy", "check"],
        ["project", "list"],
        ["advisory", "list"],
        ["advisory", "export"],
    ):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args([*argv, "--help"])
        assert exited.value.code == 0
        assert "usage: vulndesk" in capsys.readouterr().out


def test_serve_offers_the_documented_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = capsys.readouterr().out
    for flag in ("--host", "--port", "--smtp-port", "--no-smtp", "--no-worker"):
        assert flag in text


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_each_example_policy_imports_exports_and_reimports_unchanged(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "import", str(path)]) == 0
    project = Project.objects.get()
    assert main(["policy", "export", project.slug]) == 0
    exported = capsys.readouterr().out.split("\n", 1)[1]  # after the import's own line
    again = tmp_path / "again.toml"
    again.write_text(exported)
    assert main(["policy", "import", str(again)]) == 0
    project.refresh_from_db()
    assert project.policy_version == 1, "re-importing the export must not change the policy"
    assert main(["policy", "export", project.slug]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1] == exported


def test_a_malformed_policy_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (EXAMPLES / "llm-d.toml")
        .read_text()
        .replace("acknowledge_working_days = 3", "acknowledge_working_days = 0")
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    assert main(["policy", "check", str(bad)]) == 2
    assert "sla.acknowledge_working_days" in capsys.readouterr().err
    assert main(["policy", "import", str(bad)]) == 2
    assert not Project.objects.exists()


def test_a_missing_policy_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", "/nonexistent/policy.toml"]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_project_list_names_the_imported_projects(capsys: pytest.CaptureFixture[str]) -> None:
    for path in EXAMPLE_FILES:
        main(["policy", "import", str(path)])
    capsys.readouterr()
    assert main(["project", "list"]) == 0
    listing = capsys.readouterr().out
    for slug in ("fast-llm", "llm-d", "agentic-tool-mesh"):
        assert slug in listing


def test_user_create_makes_a_team_member_with_a_password_shown_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["policy", "import", str(EXAMPLES / "llm-d.toml")])
    assert main(["user", "create", "carol@llm-d.test", "--role", "team", "--project", "llm-d"]) == 0
    out = capsys.readouterr().out
    password = out.split("Password (shown once): ")[1].strip()
    carol = User.objects.get(email="carol@llm-d.test")
    assert carol.check_password(password)
    assert carol.password.startswith("argon2")
    assert list(carol.memberships.values_list("project__slug", flat=True)) == ["llm-d"]


def test_a_team_member_needs_a_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "create", "dave@x.test", "--role", "team"]) == 2
    assert "needs a project" in capsys.readouterr().err


def test_token_create_prints_the_token_once_and_stores_only_its_hash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["user", "create", "root@x.test", "--role", "admin"])
    capsys.readouterr()
    assert main(["token", "create", "root@x.test"]) == 0
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert raw.startswith("vd_")
    assert token.digest == token_digest(raw)
    assert raw not in (token.prefix, token.digest, token.name)
    assert token.expires_at is not None


def test_setup_loads_the_examples_once_and_makes_one_admin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["setup", "--examples", str(EXAMPLES)]) == 0
    first = capsys.readouterr().out
    assert "Created administrator" in first
    assert Project.objects.filter(is_example=True).count() == len(EXAMPLE_FILES)
    # A working desk at once: example reports in several states, one published advisory a project.
    states = sorted(set(Report.objects.values_list("rm_state", flat=True)))
    assert states == ["accepted", "invalid", "received"]
    assert all(r.title.startswith("Example: ") for r in Report.objects.all())
    published = Advisory.objects.filter(state=AdvisoryState.PUBLISHED, is_example=True)
    assert published.count() == len(EXAMPLE_FILES)
    assert not OutboundEmail.objects.exists()  # examples mail nobody
    assert main(["setup", "--examples", str(EXAMPLES)]) == 0
    second = capsys.readouterr().out
    assert "Created administrator" not in second
    assert "example reports" not in second
    assert User.objects.filter(is_admin=True).count() == 1
    assert Advisory.objects.count() == len(EXAMPLE_FILES)


def test_audit_verify_reports_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    main(["policy", "import", str(EXAMPLES / "llm-d.toml")])
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "intact" in out
    from vulndesk.audit.models import AuditEvent  # noqa: PLC0415

    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert f"Head: #{head.seq} {head.hash}" in out  # to be kept where the database's writers cannot reach
