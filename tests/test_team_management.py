"""Managing a project's team on the web, invitations, password resets, and who hears of a team-less
project's reports. The browser journeys are in test_browser_team.py; these speak about the rules.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.actions import AccountError, do_add_team_member, do_create_user
from vulndesk.accounts.actions.invitations import do_invite_team_member
from vulndesk.accounts.actions.password_reset import REQUESTS_PER_ADDRESS, RESETS_PER_ACCOUNT
from vulndesk.accounts.models import AccountLink, LinkPurpose, Membership, User, token_digest
from vulndesk.accounts.permissions import Role
from vulndesk.accounts.views import SECOND_FACTOR_AT
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions.triage import do_assign, triage_of
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project

from .conftest import PASSWORD, a_report, signed_in

LINK = re.compile(r"http://[^/\s]+(/accounts/(?:invitation|password-reset)/[A-Za-z0-9_-]+/)")


def _link_in(kind: str, to: str) -> str:
    mail = OutboundEmail.objects.filter(kind=kind).order_by("-pk")
    found = [m for m in mail if m.message["to"] == [to]]
    assert found, f"no {kind} mail to {to}"
    match = LINK.search(str(found[0].message["text"]))
    assert match
    return match.group(1)


# --- Who hears of a report ----------------------------------------------------------------------


def test_a_project_with_nobody_on_its_team_sends_its_notices_to_the_administrators(
    admin: User, project_a: Project
) -> None:
    a_report(project_a)
    notice = OutboundEmail.objects.get(kind="new-report-team")
    assert notice.message["to"] == [admin.email]


def test_once_the_team_has_a_member_the_administrators_are_no_longer_told(
    admin: User, alice: User, project_a: Project
) -> None:
    a_report(project_a)
    assert OutboundEmail.objects.get(kind="new-report-team").message["to"] == [alice.email]
    assert project_a.team_recipients() == [alice.email]


def test_an_inactive_member_alone_counts_as_nobody(admin: User, alice: User, project_a: Project) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert project_a.team_recipients() == [admin.email]


def test_the_desk_asks_an_administrator_for_a_team_when_a_project_has_none(
    admin: User, project_a: Project, project_b: Project, bob: User
) -> None:
    desk = signed_in(admin).get("/desk/").content.decode()
    assert "Invite the team of llm-d" in desk
    assert "Invite the team of LLM Agentic Tool Mesh" not in desk
    assert "Invite the team of" not in signed_in(bob).get("/desk/").content.decode()


# --- Managing the team --------------------------------------------------------------------------


def test_an_admin_invites_a_new_person_who_joins_with_the_mailed_link(
    admin: User, project_a: Project
) -> None:
    page = signed_in(admin).post(
        "/desk/p/llm-d/team/", {"action": "invite", "email": "Carol@LLM-d.test", "role": "lead"}
    )
    assert page.status_code == 302
    carol = User.objects.get(email="carol@llm-d.test")
    assert not carol.has_usable_password()
    assert not Membership.objects.filter(user=carol).exists()  # on the team once she joins
    path = _link_in("team-invitation", "carol@llm-d.test")
    # Only the digest is stored: the raw token is in the mail alone.
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert AccountLink.objects.filter(digest=token_digest(token)).exists()
    assert not AccountLink.objects.filter(digest=token).exists()

    visitor = Client()
    joined = visitor.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert joined.status_code == 302
    assert joined["Location"] == "/accounts/login/setup/"  # the authenticator comes next
    assert Membership.objects.get(user=carol, project=project_a).role == Role.LEAD
    assert AuditEvent.objects.filter(action="team.invitation_accepted", actor=carol).exists()
    # Used once: the same link now opens nothing, for anyone.
    assert Client().get(path).status_code == 404


def test_an_expired_invitation_opens_nothing(admin: User, project_a: Project) -> None:
    do_invite_team_member(project_a, "dan@llm-d.test", Role.TEAM, acting_user=admin)
    path = _link_in("team-invitation", "dan@llm-d.test")
    AccountLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().get(path).status_code == 404
    refused = Client().post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert refused.status_code == 404
    assert not User.objects.get(email="dan@llm-d.test").has_usable_password()


def test_someone_with_an_account_is_added_at_once(admin: User, bob: User, project_a: Project) -> None:
    assert do_invite_team_member(project_a, bob.email, Role.TEAM, acting_user=admin) == "added"
    assert Membership.objects.filter(user=bob, project=project_a).exists()
    with pytest.raises(AccountError, match="already on the team"):
        do_invite_team_member(project_a, bob.email, Role.TEAM, acting_user=admin)


def test_a_bad_address_gets_a_clear_error_and_keeps_what_was_typed(admin: User, project_a: Project) -> None:
    page = signed_in(admin).post(
        "/desk/p/llm-d/team/", {"action": "invite", "email": "not an address", "role": "team"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "is not an email address" in html
    assert 'value="not an address"' in html


def test_a_plain_member_reads_the_team_but_cannot_change_it(alice: User, project_a: Project) -> None:
    client = signed_in(alice)
    assert client.get("/desk/p/llm-d/team/").status_code == 200
    refused = client.post("/desk/p/llm-d/team/", {"action": "invite", "email": "eve@x.test", "role": "lead"})
    assert refused.status_code == 404
    # The action itself refuses too, whatever calls it.
    with pytest.raises(AccountError, match="only an administrator or the project's team lead"):
        do_invite_team_member(project_a, "eve@x.test", Role.LEAD, acting_user=alice)
    assert not User.objects.filter(email="eve@x.test").exists()


def test_a_team_lead_manages_their_own_team_and_no_other(
    admin: User, alice: User, bob: User, project_a: Project, project_b: Project
) -> None:
    signed_in(admin).post("/desk/p/llm-d/team/", {"action": "role", "member": str(alice.pk), "role": "lead"})
    assert Membership.objects.get(user=alice, project=project_a).role == Role.LEAD
    event = AuditEvent.objects.get(action="team.role_changed")
    assert event.actor == admin
    assert event.details == {"from": "team", "to": "lead"}
    lead = signed_in(alice)
    invited = lead.post(
        "/desk/p/llm-d/team/", {"action": "invite", "email": "frank@llm-d.test", "role": "team"}
    )
    assert invited.status_code == 302
    other = lead.post("/desk/p/agentic-tool-mesh/team/", {"action": "remove", "member": str(bob.pk)})
    assert other.status_code == 404
    assert Membership.objects.filter(user=bob, project=project_b).exists()


def test_a_removed_members_open_cases_go_back_to_the_team(
    admin: User, alice: User, project_a: Project
) -> None:
    carol = do_create_user(
        "carol@llm-d.test", role=Role.TEAM, project=project_a, password=PASSWORD, acting_user=None
    )
    report = a_report(project_a)
    do_assign(report, owner=carol, assignees=[carol, alice], acting_user=alice)
    page = signed_in(admin).post("/desk/p/llm-d/team/", {"action": "remove", "member": str(carol.pk)})
    assert page.status_code == 302
    triage = triage_of(report)
    triage.refresh_from_db()
    assert triage.owner is None
    assert list(triage.assignees.all()) == [alice]
    event = AuditEvent.objects.get(action="team.member_removed")
    assert event.actor == admin
    assert event.details == {"cases_unowned": 1, "cases_unassigned": 1}


def test_changing_the_team_needs_a_recent_sign_in(admin: User, alice: User, project_a: Project) -> None:
    client = signed_in(admin)
    session = client.session
    session[SECOND_FACTOR_AT] = int(time.time()) - 3600
    session.save()
    page = client.post("/desk/p/llm-d/team/", {"action": "remove", "member": str(alice.pk)})
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/confirm/")
    assert Membership.objects.filter(user=alice, project=project_a).exists()


def test_the_first_administrator_is_put_on_every_example_projects_team(db: None) -> None:
    from vulndesk.bootstrap import create_first_admin, load_example_projects  # noqa: PLC0415

    from .conftest import EXAMPLES  # noqa: PLC0415

    projects = load_example_projects(EXAMPLES)
    created = create_first_admin("first@vulndesk.test")
    assert created is not None
    first = User.objects.get(email="first@vulndesk.test")
    assert {m.project for m in first.memberships.all()} == set(projects)


# --- Password reset -----------------------------------------------------------------------------


def test_the_answer_is_the_same_whether_or_not_the_account_exists(alice: User) -> None:
    known = Client().post("/accounts/password-reset/", {"email": alice.email})
    unknown = Client().post("/accounts/password-reset/", {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.content.decode().replace(alice.email, "X") == unknown.content.decode().replace(
        "nobody@nowhere.test", "X"
    )
    assert [m.message["to"] for m in OutboundEmail.objects.filter(kind="password-reset")] == [[alice.email]]


def test_a_reset_changes_the_password_once_and_the_second_factor_is_still_needed(alice: User) -> None:
    Client().post("/accounts/password-reset/", {"email": alice.email})
    path = _link_in("password-reset", alice.email)
    new = "a brand new long password"
    done = Client().post(path, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert AuditEvent.objects.filter(action="user.password_reset", actor=alice).exists()
    signing_in = Client().post("/accounts/login/", {"username": alice.email, "password": new})
    assert signing_in["Location"] in {"/accounts/login/code/", "/accounts/login/setup/"}
    assert Client().get(path).status_code == 404


def test_a_reset_link_lasts_an_hour(alice: User) -> None:
    Client().post("/accounts/password-reset/", {"email": alice.email})
    path = _link_in("password-reset", alice.email)
    AccountLink.objects.filter(purpose=LinkPurpose.PASSWORD_RESET).update(
        created_at=timezone.now() - dt.timedelta(hours=2), expires_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert Client().get(path).status_code == 404


def test_resets_are_rate_limited_per_account_silently_and_per_address_openly(alice: User) -> None:
    client = Client()
    for _ in range(REQUESTS_PER_ADDRESS):
        assert client.post("/accounts/password-reset/", {"email": alice.email}).status_code == 200
    assert OutboundEmail.objects.filter(kind="password-reset").count() == RESETS_PER_ACCOUNT
    refused = client.post("/accounts/password-reset/", {"email": "someone@else.test"})
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.content.decode()


def test_an_invited_person_without_a_password_gets_no_reset_mail(admin: User, project_a: Project) -> None:
    do_invite_team_member(project_a, "gina@llm-d.test", Role.TEAM, acting_user=admin)
    Client().post("/accounts/password-reset/", {"email": "gina@llm-d.test"})
    assert not OutboundEmail.objects.filter(kind="password-reset").exists()


def test_adding_an_existing_person_twice_keeps_one_membership(alice: User, project_a: Project) -> None:
    do_add_team_member(alice, project_a, acting_user=None)
    assert Membership.objects.filter(user=alice).count() == 1


def test_the_operator_resets_a_password_from_the_command_line(
    alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    from vulndesk.cli import main  # noqa: PLC0415

    assert main(["user", "reset-password", "ALICE@llm-d.test"]) == 0
    assert "mailed" in capsys.readouterr().out
    path = _link_in("password-reset", alice.email)
    assert Client().get(path).status_code == 200
    assert AuditEvent.objects.get(action="user.password_reset_requested").actor is None
