"""security.txt signed with the project's key (RFC 9116 §2.3), and example projects that have one.

Signatures are made and checked by real gpg; the served text is read by ``sectxt``, the parser
security.txt checkers use.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings
from sectxt import Parser

from vulndesk.cli import main
from vulndesk.openpgp.actions import do_generate_project_key
from vulndesk.openpgp.keys import GnuPGHome
from vulndesk.openpgp.models import ProjectKey, SignatureStatus
from vulndesk.projects.models import Project

from .conftest import EXAMPLES
from .live import LiveServer, live_server

BASE = "https://desk.example.org"


def codes(parsed: Parser) -> set[str]:
    return {item["code"] for item in [*parsed.errors, *parsed.recommendations]}


def test_security_txt_is_a_cleartext_signature_that_gpg_verifies_with_the_projects_key(
    client: Client, project_a: Project
) -> None:
    key = do_generate_project_key(project_a, acting_user=None)
    body = client.get("/p/llm-d/security.txt").content
    assert body.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----\n")
    assert body.rstrip().endswith(b"-----END PGP SIGNATURE-----")
    with GnuPGHome() as home:
        home.import_keys(key.public_key)
        signature = home.verify(body)
    assert (signature.status, signature.fingerprint) == (SignatureStatus.VALID, key.fingerprint)
    # A changed byte breaks it: the signature covers the fields.
    forged = body.replace(b"Preferred-Languages: en", b"Preferred-Languages: fr")
    with GnuPGHome() as home:
        home.import_keys(key.public_key)
        assert home.verify(forged).status == SignatureStatus.INVALID


def test_sectxt_finds_no_error_and_neither_not_signed_nor_no_encryption_over_https(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.BASE_URL = BASE
    do_generate_project_key(project_a, acting_user=None)
    body = client.get("/.well-known/security.txt").content
    parsed = Parser(body, urls=f"{BASE}/.well-known/security.txt")
    assert parsed.errors == []
    assert parsed.is_valid()
    assert not codes(parsed) & {"not_signed", "no_encryption", "no_canonical"}
    text = body.decode()
    assert f"Encryption: {BASE}/p/llm-d/openpgp.asc\n" in text
    assert f"CSAF: {BASE}/.well-known/csaf/provider-metadata.json\n" in text  # CSAF 2.0 §7.1.8


def test_without_a_key_security_txt_is_plain_and_says_it_is_unsigned(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.BASE_URL = BASE
    body = client.get("/p/llm-d/security.txt").content
    assert b"BEGIN PGP" not in body
    parsed = Parser(body, urls=f"{BASE}/p/llm-d/security.txt")
    assert parsed.errors == []
    assert {"not_signed", "no_encryption"} <= codes(parsed)


def test_a_repeated_request_serves_the_same_signed_text(client: Client, project_a: Project) -> None:
    do_generate_project_key(project_a, acting_user=None)
    first = client.get("/p/llm-d/security.txt").content
    assert client.get("/p/llm-d/security.txt").content == first  # signed once, from the cache


def test_setup_leaves_the_keys_to_the_worker_which_gives_each_example_one(
    transactional_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup", "--examples", str(EXAMPLES)]) == 0
    capsys.readouterr()
    examples = Project.objects.filter(is_example=True)
    assert examples.count() == len(list(EXAMPLES.glob("*.toml")))
    assert not ProjectKey.objects.exists()  # none made during setup: the first start stays quick
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, verbosity=0)
    keyed = set(ProjectKey.objects.values_list("project__slug", flat=True))
    assert keyed == set(examples.values_list("slug", flat=True))
    # A second setup finds the projects and queues nothing more.
    assert main(["setup", "--examples", str(EXAMPLES)]) == 0
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, verbosity=0)
    assert ProjectKey.objects.count() == examples.count()


@pytest.mark.server
def test_a_fresh_server_signs_every_example_security_txt_once_its_worker_made_the_keys(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path, base_url=BASE) as server:
        for slug in ("llm-d", "agentic-tool-mesh", "fast-llm"):
            body = _signed_security_txt(server, f"/p/{slug}/security.txt")
            parsed = Parser(body, urls=f"{BASE}/p/{slug}/security.txt")
            assert parsed.errors == []
            assert not codes(parsed) & {"not_signed", "no_encryption"}


def _signed_security_txt(server: LiveServer, path: str, timeout: float = 90) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = server.get(path)
        assert status == 200
        if body.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----"):
            return body
        assert time.monotonic() < deadline, "the worker made no key in time"
        time.sleep(0.5)
