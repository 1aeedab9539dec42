"""The distributors list of the Agentic Tool Mesh, end to end: organisations apply and are vouched
for, a critical case is fixed on three release lines, its embargo is negotiated, one distributor is
told (encrypted) and the other never sees anything, and the embargo ends at its hour."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from typing import Any

import gnupg
import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.tasks import sweep
from vulndesk.cases.vultron import EMState
from vulndesk.distributors.actions import DistributorError, PolicyNotAcceptedError
from vulndesk.distributors.actions.leaks import do_report_leak, do_report_member_leak
from vulndesk.distributors.actions.membership import do_accept_embargo_policy, do_approve
from vulndesk.distributors.actions.sharing import (
    do_accept_case_embargo,
    do_propose_disclosure_date,
    do_read_briefing,
    do_set_product_status,
)
from vulndesk.distributors.models import (
    CaseShare,
    DistributorMember,
    MemberState,
    Organisation,
    OrganisationState,
    ProductState,
    ProductStatus,
    ReportedBy,
)
from vulndesk.distributors.notices import send_due_final_notices
from vulndesk.embargo.actions import end_due_embargoes
from vulndesk.embargo.models import Embargo, ProposalStatus
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.notify.tasks import deliver
from vulndesk.openpgp.keys import GPGCONF_BINARY
from vulndesk.projects.models import Project

from .conftest import Relay, a_report, sign_in_for_real, signed_in
from .test_openpgp import Correspondent, _new_key

ATM = "agentic-tool-mesh"
PACKAGE = "pkg:pypi/llmesh"
SECRET = "Qx-42 the planner hands tool output to eval"
MITIGATION = "Set LLMESH_DISABLE_PYTHON_TOOL=1 until you upgrade"
PASSWORD = "a long distributor passphrase"
CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], None]]]]


@contextmanager
def _person(name: str, address: str) -> Iterator[Correspondent]:
    """Someone with a GnuPG home of their own: only they hold their secret key."""
    with tempfile.TemporaryDirectory(prefix="distributor-gnupg-") as home:
        gpg = gnupg.GPG(gnupghome=home, options=["--pinentry-mode", "loopback"])
        yield Correspondent(gpg, _new_key(gpg, name, address))
        subprocess.run([GPGCONF_BINARY, "--homedir", home, "--kill", "all"], check=False)


@pytest.fixture(scope="module")
def ada() -> Iterator[Correspondent]:
    with _person("Ada Distro", "ada@distro-a.test") as person:
        yield person


@pytest.fixture(scope="module")
def bea() -> Iterator[Correspondent]:
    with _person("Bea Vendor", "bea@vendor-b.test") as person:
        yield person


def _apply(client: Client, organisation: str, email: str, key: str, **override: str) -> Any:
    criteria = Project.objects.get(slug=ATM).policy.distributors.membership_criteria
    form = {
        "organisation": organisation,
        "website": f"https://{organisation.lower().replace(' ', '-')}.test",
        "name": organisation + " security",
        "email": email,
        "public_key": key,
        "accept": "yes",
        **{f"criterion-{i}": f"We meet it: see our advisories ({i})" for i in range(len(criteria))},
        **override,
    }
    return client.post(f"/p/{ATM}/distributors/apply/", form)


def _deliver_all(relay: Relay) -> list[str]:
    """Send everything queued through the real relay; the raw messages it received."""
    before = len(relay.received)
    for outbound in OutboundEmail.objects.filter(status=OutboundStatus.QUEUED):
        assert deliver(str(outbound.uid)) == "sent", (outbound.kind, outbound.message["subject"])
    return relay.received[before:]


def _to(raw: list[str], address: str) -> list[EmailMessage]:
    found = []
    for text in raw:
        message = message_from_string(text, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if message["To"] == address:
            found.append(message)
    return found


def _final_notice_in_the_first_ones_thread(
    later: EmailMessage, first: EmailMessage, reader: Correspondent
) -> None:
    """The final notice names itself and carries the briefing; notices of one case to one
    organisation form one thread in the member's client."""
    assert "Final notice" in str(_inner(later, reader)["Subject"])
    assert SECRET in _read(later, reader)
    assert str(first["References"]).startswith("<thread.")
    assert later["In-Reply-To"] == later["References"] == first["In-Reply-To"] == first["References"]


def _inner(message: EmailMessage, reader: Correspondent) -> EmailMessage:
    """A PGP/MIME message decrypted with the reader's own key; its subject travels only inside."""
    assert message.get_content_type() == "multipart/encrypted"
    assert message["Subject"] == "[...]", "the outer subject is obscured (RFC 9788)"
    _control, encrypted = message.iter_parts()
    ciphertext = encrypted.get_payload(decode=True)
    assert isinstance(ciphertext, bytes)
    inner = message_from_bytes(reader.decrypt(ciphertext), policy=policy.default)
    assert isinstance(inner, EmailMessage)
    assert inner.get_param("protected-headers") == "v1"
    return inner


def _read(message: EmailMessage, reader: Correspondent) -> str:
    """The text of a PGP/MIME message, decrypted with the reader's own key."""
    body = _inner(message, reader).get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _join(client: Client, raw: list[str], address: str, reader: Correspondent) -> Client:
    """The member opens the encrypted invitation, sets a password and signs in."""
    [invitation] = _to(raw, address)
    link = re.search(r"http://testserver(/distributor/welcome/[^\s]+/)", _read(invitation, reader))
    assert link, "the invitation carries a link"
    member = Client()
    response = member.post(link.group(1), {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    sign_in_for_real(member, address, PASSWORD)
    assert member.get("/distributor/").status_code == 200
    # The link works once.
    assert Client().get(link.group(1)).status_code == 404
    return member


@pytest.fixture
def two_distributors(
    project_b: Project, bob: User, relay: Relay, ada: Correspondent, bea: Correspondent
) -> dict[str, Any]:
    assert project_b.policy.distributors.enabled
    client = Client()
    relay.start()
    assert _apply(client, "Distro A", "ada@distro-a.test", ada.public_key()).status_code == 201
    assert _apply(client, "Vendor B", "bea@vendor-b.test", bea.public_key()).status_code == 201
    distro_a, vendor_b = Organisation.objects.get(name="Distro A"), Organisation.objects.get(name="Vendor B")
    # Each member accepted the embargo policy with its version and the time, by applying.
    member = DistributorMember.objects.get(user__email="ada@distro-a.test")
    assert member.embargo_policy_version == "1"
    assert member.embargo_policy_accepted_at is not None
    team = signed_in(bob)
    _on_organisation(team, distro_a, "approve")
    distro_a.refresh_from_db()
    assert distro_a.state == OrganisationState.APPROVED  # the first organisation founds the list
    # The second needs a member of the list to vouch for it (criterion 7).
    page = _on_organisation(team, vendor_b, "approve", follow=True)
    assert "no member of the list has vouched" in page.content.decode()
    ada_client = _join(client, _deliver_all(relay), "ada@distro-a.test", ada)
    portal = ada_client.get("/distributor/").content.decode()
    assert "Vendor B" in portal
    ada_client.post(f"/distributor/p/{ATM}/vouch/{vendor_b.pk}/", {"statement": "We know their work."})
    assert "We know their work." in team.get(f"/desk/p/{ATM}/distributors/").content.decode()
    _on_organisation(team, vendor_b, "approve")
    bea_client = _join(client, _deliver_all(relay), "bea@vendor-b.test", bea)
    return {"team": team, "ada": ada_client, "bea": bea_client, "a": distro_a, "b": vendor_b, "bea_key": bea}


def _on_case(team: Client, number: int, action: str, *, follow: bool = False, **fields: Any) -> Any:
    """The team's ``action`` in case ``number``'s distributors section (share, attribute...)."""
    return team.post(
        f"/desk/p/{ATM}/reports/{number}/distributors/", {"action": action, **fields}, follow=follow
    )


def _share(
    team: Client, number: int, organisation: Organisation, summary: str = SECRET, *, follow: bool = False
) -> Any:
    return _on_case(
        team, number, "share", organisation=[str(organisation.pk)], summary=summary, follow=follow
    )


def _on_organisation(
    team: Client, organisation: Organisation, action: str, *, follow: bool = False, **fields: str
) -> Any:
    """The team's ``action`` on an organisation of the list (approve, decline, member_state...)."""
    return team.post(
        f"/desk/p/{ATM}/distributors/{organisation.pk}/", {"action": action, **fields}, follow=follow
    )


def _critical_case_fixed_on_three_lines(client: Client, team: Client) -> tuple[int, str]:
    body = client.post(
        f"/api/v1/projects/{ATM}/reports",
        json.dumps({"title": SECRET, "description": "d", "reporter_email": "rita@researcher.test"}),
        content_type="application/json",
    ).json()
    number, tracking = body["number"], body["tracking_url"].removeprefix("http://testserver")
    base = f"/desk/p/{ATM}/reports/{number}"
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    team.post(f"{base}/severity/", {"cvss31": vector, "cwes": "CWE-95"})
    for version in ("1.1.0", "1.1.2", "1.2.0", "1.3.0", "1.3.1"):
        line = version.rsplit(".", 1)[0]
        team.post(
            f"/desk/p/{ATM}/releases/", {"package": PACKAGE, "version": version, "branch": f"release-{line}"}
        )
    team.post(
        f"{base}/affected/", {"package": PACKAGE, "affected": ">=1.1.0|<1.1.3|>=1.2.0|<1.2.1|>=1.3.0|<1.3.2"}
    )
    for line, fixed in (("1.3", "1.3.2"), ("1.2", "1.2.1"), ("1.1", "1.1.3")):
        team.post(
            f"{base}/backports/",
            {
                "package": PACKAGE,
                "line": line,
                "status": "fixed",
                "fixed_version": fixed,
                "fix_reference": "PR 7",
            },
        )
    team.post(
        f"{base}/fix-plan/", {"timeline": "Patch releases on all three lines.", "mitigations": MITIGATION}
    )
    return number, tracking


def _negotiate(client: Client, team: Client, number: int, tracking: str) -> dt.datetime:
    """The reporter proposes 12 days; the team counters with 16:00 Chicago two days later; agreed."""
    soon = (timezone.now() + dt.timedelta(days=12)).replace(second=0, microsecond=0)
    client.post(
        f"{tracking}embargo/", {"action": "propose", "zone": "UTC", "ends_at": f"{soon:%Y-%m-%dT%H:%M}"}
    )
    embargo = Embargo.objects.get(report__number=number, report__project__slug=ATM)
    proposal = embargo.proposals.get()
    later = (soon + dt.timedelta(days=2)).strftime("%Y-%m-%dT16:00")
    team.post(
        f"/desk/p/{ATM}/reports/{number}/embargo/",
        {"action": "counter", "proposal": str(proposal.pk), "zone": "project", "ends_at": later},
    )
    counter = embargo.proposals.get(status=ProposalStatus.OPEN)
    client.post(f"{tracking}embargo/", {"action": "accept", "proposal": str(counter.pk)})
    embargo.refresh_from_db()
    assert embargo.state == EMState.ACTIVE
    assert embargo.ends_at is not None
    return embargo.ends_at


def _case_under_embargo(client: Client, team: Client) -> tuple[int, str]:
    """The critical case, with the disclosure date the reporter and the team agreed; its number
    and the reporter's tracking page."""
    number, tracking = _critical_case_fixed_on_three_lines(client, team)
    _negotiate(client, team, number, tracking)
    return number, tracking


def _briefing_sent_is_audited(address: str) -> None:
    """Each briefing sent is a disclosure of embargoed material: audited, per person."""
    sent = AuditEvent.objects.get(action="distributors.notice_sent")
    assert sent.details["member"] == address
    assert SECRET not in json.dumps(sent.details)


def _reaches_nothing(outsider: Client, number: int) -> None:
    """A member of the list who was not told reaches nothing of the case, by any route."""
    case_url = f"/distributor/p/{ATM}/cases/{number}/"
    bea_portal = outsider.get("/distributor/").content.decode()
    assert case_url not in bea_portal
    assert "Nothing shared with Vendor B yet" in bea_portal
    assert outsider.get(case_url).status_code == 404
    assert outsider.post(f"{case_url}act/", {"action": "accept"}).status_code == 404
    assert outsider.get(f"/desk/p/{ATM}/reports/{number}/").status_code == 404
    assert outsider.get(f"/api/v1/projects/{ATM}/reports/{number}").status_code in (401, 404)
    assert not AuditEvent.objects.filter(
        action="distributors.case_read", actor__email="bea@vendor-b.test"
    ).exists()


def test_the_agentic_tool_mesh_tells_one_distributor_under_embargo_and_not_the_other(
    client: Client,
    two_distributors: dict[str, Any],
    relay: Relay,
    ada: Correspondent,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    team, ada_client, bea_client = two_distributors["team"], two_distributors["ada"], two_distributors["bea"]
    number, tracking = _critical_case_fixed_on_three_lines(client, team)
    ends_at = _negotiate(client, team, number, tracking)
    case_url = f"/distributor/p/{ATM}/cases/{number}/"

    # The team tells Distro A only.
    distro_a = two_distributors["a"]
    response = _share(team, number, distro_a, f"Summary: {SECRET}.")
    assert response.status_code == 302
    assert [s.organisation.name for s in CaseShare.objects.all()] == ["Distro A"]
    # The reporter hears that one distributor was told, not who, under the same embargo.
    told = OutboundEmail.objects.get(kind="distributors-told-reporter")
    assert "1 distributor on its private list" in str(told.message["text"])
    assert "Distro A" not in json.dumps(told.message)
    assert "told 1 distributor on its private list" in client.get(tracking).content.decode()

    # The notice goes out encrypted to Ada's key: nothing of it crosses the wire in clear.
    raw = _deliver_all(relay)
    assert not _to(raw, "bea@vendor-b.test")
    [notice] = _to(raw, "ada@distro-a.test")
    for text in raw:
        for secret in (SECRET, MITIGATION, "1.3.2", "CVSS:3.1/AV:N"):
            assert secret not in text
    readable = _read(notice, ada)
    for expected in (
        SECRET,
        MITIGATION,
        "pkg:pypi/llmesh vers:pypi/>=1.1.0|<1.1.3|>=1.2.0",
        "1.3 (release-1.3): Fixed, fixed in 1.3.2 (PR 7)",
        "1.2 (release-1.2): Fixed, fixed in 1.2.1",
        "1.1 (release-1.1): Fixed, fixed in 1.1.3",
        "Severity: Critical",
        "CVSS 3.1: 10.0 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        f"{ends_at:%Y-%m-%d %H:%M} UTC",
        "America/Chicago",
    ):
        assert expected in readable, expected
    with pytest.raises(AssertionError):
        _read(notice, two_distributors["bea_key"])  # Bea's key cannot open it
    _briefing_sent_is_audited("ada@distro-a.test")

    # Ada reads the case in the portal only after accepting its embargo; each read is audited.
    before = ada_client.get(case_url).content.decode()
    assert SECRET not in before
    assert "Accept this case's embargo" in before
    ada_client.post(f"{case_url}act/", {"action": "accept"})
    reads = AuditEvent.objects.filter(action="distributors.case_read").count()
    page = ada_client.get(case_url).content.decode()
    assert SECRET in page
    assert MITIGATION in page
    assert AuditEvent.objects.filter(action="distributors.case_read").count() == reads + 1
    ada_client.post(
        f"{case_url}act/",
        {"action": "status", "product": "distro-a-llmesh", "status": "not_affected", "justification": "x"},
    )
    assert not ProductStatus.objects.exists()  # "not affected" needs one of the five justifications
    ada_client.post(
        f"{case_url}act/",
        {
            "action": "status",
            "product": "distro-a-llmesh",
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        },
    )
    desk_page = team.get(f"/desk/p/{ATM}/reports/{number}/").content.decode()
    assert "distro-a-llmesh: Not affected (The vulnerable code is never run)" in desk_page

    _reaches_nothing(bea_client, number)

    # The final notice goes 24 hours before the end, once.
    assert send_due_final_notices(ends_at - dt.timedelta(hours=25)) == 0
    assert send_due_final_notices(ends_at - dt.timedelta(hours=23)) == 1
    assert send_due_final_notices(ends_at - dt.timedelta(hours=22)) == 0
    [final] = _to(_deliver_all(relay), "ada@distro-a.test")
    _final_notice_in_the_first_ones_thread(final, notice, ada)

    # The embargo ends at its hour, not a second before; Distro A hears it at once.
    with django_capture_on_commit_callbacks(execute=True):
        assert end_due_embargoes(ends_at - dt.timedelta(seconds=1)) == 0
        assert end_due_embargoes(ends_at) == 1
    embargo = Embargo.objects.get(report__number=number, report__project__slug=ATM)
    assert embargo.state == EMState.EXITED
    [ended] = _to(_deliver_all(relay), "ada@distro-a.test")
    assert "Embargo ended" in str(_inner(ended, ada)["Subject"])
    assert bea_client.get(case_url).status_code == 404


def test_attacks_in_the_wild_tell_the_distributors_at_once(
    client: Client,
    two_distributors: dict[str, Any],
    relay: Relay,
    ada: Correspondent,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    team = two_distributors["team"]
    number, _tracking = _case_under_embargo(client, team)
    _share(team, number, two_distributors["a"])
    _deliver_all(relay)
    with django_capture_on_commit_callbacks(execute=True):
        team.post(
            f"/desk/p/{ATM}/reports/{number}/embargo/", {"action": "exit", "reason": "attacks_observed"}
        )
    [ended] = _to(_deliver_all(relay), "ada@distro-a.test")
    assert "Attacks were seen in the wild" in _read(ended, ada)


def test_sharing_needs_the_policys_notice_period(client: Client, two_distributors: dict[str, Any]) -> None:
    team = two_distributors["team"]
    number, _tracking = _critical_case_fixed_on_three_lines(client, team)
    page = _share(team, number, two_distributors["a"], follow=True).content.decode()
    assert "agree a disclosure date first" in page
    soon = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    team.post(f"/desk/p/{ATM}/reports/{number}/embargo/", {"action": "set", "zone": "UTC", "ends_at": soon})
    page = _share(team, number, two_distributors["a"], follow=True).content.decode()
    assert "at least 7 days of notice" in page
    assert not CaseShare.objects.exists()


def test_a_second_leak_removes_the_organisation_from_the_list(
    client: Client, two_distributors: dict[str, Any], relay: Relay
) -> None:
    team, ada_client = two_distributors["team"], two_distributors["ada"]
    number, tracking = _case_under_embargo(client, team)
    distro_a = two_distributors["a"]
    _share(team, number, distro_a)
    case_url = f"/distributor/p/{ATM}/cases/{number}/"
    ada_client.post(f"{case_url}act/", {"action": "accept"})
    # Ada reports her own organisation's leak, as the policy asks; the team is alerted at once.
    ada_client.post(
        f"{case_url}act/", {"action": "leak", "what": "the summary", "to_whom": "a contractor", "zone": "UTC"}
    )
    alert = OutboundEmail.objects.get(kind="distributor-leak")
    assert "a contractor" not in json.dumps(alert.message)  # what leaked stays on the desk
    page = team.get(f"/desk/p/{ATM}/reports/{number}/").content.decode()
    assert "To whom: a contractor" in page
    assert "(ada@distro-a.test)" in page
    from vulndesk.distributors.models import Leak  # noqa: PLC0415

    # A member's report counts against nobody until the team attributes it.
    assert Leak.objects.get().organisation is None
    ada_leak = Leak.objects.get()
    _on_case(team, number, "attribute", leak=str(ada_leak.pk), organisation=str(distro_a.pk))
    distro_a.refresh_from_db()
    assert distro_a.state == OrganisationState.APPROVED  # one leak: reported, recorded
    # The reporter reports another; the team finds it came from Distro A: the second leak removes it.
    client.post(f"{tracking}leak/", {"what": "the fix", "to_whom": "a public chat"})
    page = team.get(f"/desk/p/{ATM}/reports/{number}/").content.decode()
    assert "The reporter" in page
    unattributed = Leak.objects.get(organisation__isnull=True)
    _on_case(team, number, "attribute", leak=str(unattributed.pk), organisation=str(distro_a.pk))
    distro_a.refresh_from_db()
    assert distro_a.state == OrganisationState.REMOVED
    assert "2 leaks" in distro_a.decision_reason
    assert DistributorMember.objects.get(user__email="ada@distro-a.test").state == MemberState.REMOVED
    assert ada_client.get(case_url).status_code == 404
    assert ada_client.get("/distributor/").status_code == 404


def test_applications_are_checked_and_declines_give_a_reason(
    client: Client, project_b: Project, bob: User, ada: Correspondent
) -> None:
    assert _apply(client, "Distro A", "ada@distro-a.test", ada.public_key(), accept="").status_code == 422
    page = _apply(client, "Distro A", "ada@distro-a.test", "not a key").content.decode()
    assert "not an OpenPGP public key" in page
    secret = ada.secret_key()
    assert (
        "send only the public key" in _apply(client, "Distro A", "ada@distro-a.test", secret).content.decode()
    )
    assert (
        "criterion 3 has no answer"
        in _apply(
            client, "Distro A", "ada@distro-a.test", ada.public_key(), **{"criterion-2": " "}
        ).content.decode()
    )
    assert not Organisation.objects.exists()
    assert _apply(client, "Distro A", "ada@distro-a.test", ada.public_key()).status_code == 201
    organisation = Organisation.objects.get()
    team = signed_in(bob)
    page = _on_organisation(team, organisation, "decline", reason="", follow=True).content.decode()
    assert "give the reason for declining" in page
    _on_organisation(team, organisation, "decline", reason="Not a distributor.")
    organisation.refresh_from_db()
    assert organisation.state == OrganisationState.DECLINED
    declined = OutboundEmail.objects.get(kind="distributor-declined")
    assert declined.message["encrypt_to"]  # even a refusal goes encrypted to the applicant's key
    with pytest.raises(DistributorError):
        do_approve(organisation, acting_user=bob)
    # A project without a distributors list has no form.
    assert client.get("/p/llm-d/distributors/apply/").status_code == 404


def test_a_notice_whose_key_fails_is_never_sent_in_clear(
    project_b: Project, relay: Relay, ada: Correspondent
) -> None:
    """The outbox refuses to send a mail meant to be encrypted when encryption fails."""
    from django.db import transaction  # noqa: PLC0415

    from vulndesk.notify.actions import Email, queue_email  # noqa: PLC0415

    relay.start()
    with transaction.atomic():
        queue_email(
            Email(kind="distributor-leak", to=["x@distro.test"], context={}, encrypt_to="garbage"),
            project=project_b,
        )
    outbound = OutboundEmail.objects.get()
    assert deliver(str(outbound.uid)) == "failed"
    assert not relay.received


def test_leaks_are_audited_without_their_contents(project_b: Project) -> None:
    report: Report = a_report(project_b)
    do_report_leak(
        report,
        what="the PoC",
        to_whom="a blog",
        happened_at=None,
        reported_by_kind=ReportedBy.TEAM,
        acting_user=None,
    )
    event = AuditEvent.objects.get(action="distributors.leak_reported")
    assert "PoC" not in json.dumps(event.details)
    # And nothing ran the sweep's distributor steps on a case nobody shared.
    assert "0 final notices" in sweep()


def test_a_distributors_proposal_is_answered_by_the_team_only(
    client: Client, two_distributors: dict[str, Any]
) -> None:
    from vulndesk.embargo.actions import EmbargoError, do_accept_proposal  # noqa: PLC0415
    from vulndesk.embargo.models import ProposerKind  # noqa: PLC0415

    team, ada_client = two_distributors["team"], two_distributors["ada"]
    number, tracking = _critical_case_fixed_on_three_lines(client, team)
    ends_at = _negotiate(client, team, number, tracking)
    _share(team, number, two_distributors["a"])
    case_url = f"/distributor/p/{ATM}/cases/{number}/"
    ada_client.post(f"{case_url}act/", {"action": "accept"})
    later = ends_at + dt.timedelta(days=1)
    ada_client.post(
        f"{case_url}act/", {"action": "propose", "zone": "UTC", "ends_at": f"{later:%Y-%m-%dT%H:%M}"}
    )
    embargo = Embargo.objects.get(report__number=number, report__project__slug=ATM)
    proposal = embargo.proposals.get(status=ProposalStatus.OPEN)
    assert proposal.proposer_kind == ProposerKind.DISTRIBUTOR
    assert "Distro A" in proposal.note
    # The reporter sees it but cannot accept it; the team decides.
    assert f'name="proposal" value="{proposal.pk}"' not in client.get(tracking).content.decode()
    with pytest.raises(EmbargoError, match="the security team answers"):
        do_accept_proposal(proposal, acting_user=None, accepted_by=ProposerKind.REPORTER)
    team.post(f"/desk/p/{ATM}/reports/{number}/embargo/", {"action": "accept", "proposal": str(proposal.pk)})
    embargo.refresh_from_db()
    assert embargo.ends_at == later.replace(second=0, microsecond=0)


def test_the_form_tells_nobody_who_has_an_account_and_attaches_no_account(
    client: Client, project_b: Project, bob: User, ada: Correspondent
) -> None:
    stranger = _apply(client, "Distro Y", "new@distro-y.test", ada.public_key())
    existing = _apply(client, "Distro Z", bob.email, ada.public_key())
    # The same answer either way: the form is no oracle for who has an account here.
    assert existing.status_code == stranger.status_code == 201
    assert existing.content.decode().replace("Distro Z", "Distro Y") == stranger.content.decode()
    distro_z = Organisation.objects.get(name="Distro Z")
    assert distro_z.contact_with_account == bob.email
    assert not distro_z.members.exists()  # Bob's account was not attached to it
    assert not DistributorMember.objects.filter(user=bob).exists()
    page = signed_in(bob).get(f"/desk/p/{ATM}/distributors/").content.decode()
    assert f"{bob.email}, already has an account here" in page


def test_the_public_form_is_rate_limited_and_refuses_control_characters(
    client: Client, project_b: Project, ada: Correspondent
) -> None:
    from vulndesk.distributors.actions.membership import APPLICATIONS_PER_HOUR  # noqa: PLC0415

    page = _apply(client, "Distro\r\nBcc: x@evil.test", "a@distro.test", ada.public_key())
    assert page.status_code == 422
    assert "cannot hold control characters" in page.content.decode()
    for number in range(APPLICATIONS_PER_HOUR):
        assert (
            _apply(client, f"Distro {number}", f"s{number}@distro.test", ada.public_key()).status_code == 201
        )
    refused = _apply(client, "One too many", "late@distro.test", ada.public_key())
    assert refused.status_code == 422
    assert "too many applications from your network address" in refused.content.decode()
    assert not Organisation.objects.filter(name="One too many").exists()


def test_a_member_bound_to_an_older_embargo_policy_gets_no_briefing(
    client: Client, two_distributors: dict[str, Any], relay: Relay, ada: Correspondent
) -> None:
    from vulndesk.projects.actions import do_update_policy  # noqa: PLC0415
    from vulndesk.projects.policy import parse_policy_toml  # noqa: PLC0415

    team, ada_client = two_distributors["team"], two_distributors["ada"]
    number, _tracking = _case_under_embargo(client, team)
    project = Project.objects.get(slug=ATM)
    text = project.policy.as_toml().replace('embargo_policy_version = "1"', 'embargo_policy_version = "2"')
    do_update_policy(project, parse_policy_toml(text), acting_user=None)
    _deliver_all(relay)
    _share(team, number, two_distributors["a"])
    [notice] = _to(_deliver_all(relay), "ada@distro-a.test")
    readable = _read(notice, ada)
    assert f"shared case #{number}" in readable
    assert "accept the current embargo policy" in readable
    for secret in (SECRET, MITIGATION, "1.3.2"):
        assert secret not in readable
    assert AuditEvent.objects.filter(action="distributors.notice_withheld").count() == 1
    assert not AuditEvent.objects.filter(action="distributors.notice_sent").exists()
    # Nor can she act on the case before accepting the new text.
    case_url = f"/distributor/p/{ATM}/cases/{number}/"
    ada_client.post(f"{case_url}act/", {"action": "accept"})
    assert not AuditEvent.objects.filter(action="distributors.case_embargo_accepted").exists()


def test_a_vouch_counts_only_while_its_author_is_on_the_list(
    client: Client, two_distributors: dict[str, Any], bob: User, bea: Correspondent
) -> None:
    team, ada_client = two_distributors["team"], two_distributors["ada"]
    assert _apply(client, "Distro C", "cy@distro-c.test", bea.public_key()).status_code == 201
    distro_c = Organisation.objects.get(name="Distro C")
    ada_client.post(f"/distributor/p/{ATM}/vouch/{distro_c.pk}/", {"statement": "Good people."})
    ada = DistributorMember.objects.get(user__email="ada@distro-a.test")
    _on_organisation(team, two_distributors["a"], "member_state", member=str(ada.pk), state="suspended")
    page = _on_organisation(team, distro_c, "approve", follow=True)
    assert "no member of the list has vouched" in page.content.decode()
    distro_c.refresh_from_db()
    assert distro_c.state == OrganisationState.APPLIED


def test_sharing_a_case_and_reinstating_a_member_need_a_recent_confirmation(
    client: Client, two_distributors: dict[str, Any]
) -> None:
    from vulndesk.accounts.views import SECOND_FACTOR_AT  # noqa: PLC0415

    team = two_distributors["team"]
    number, _tracking = _case_under_embargo(client, team)
    session = team.session
    session[SECOND_FACTOR_AT] = 0  # signed in long ago
    session.save()
    response = _share(team, number, two_distributors["a"])
    assert response["Location"].startswith("/accounts/confirm/")
    assert not CaseShare.objects.exists()
    bea = DistributorMember.objects.get(user__email="bea@vendor-b.test")
    bea.state = MemberState.SUSPENDED
    bea.save()
    response = _on_organisation(
        team, two_distributors["b"], "member_state", member=str(bea.pk), state="active"
    )
    assert response["Location"].startswith("/accounts/confirm/")
    bea.refresh_from_db()
    assert bea.state == MemberState.SUSPENDED


def test_the_team_invites_a_person_again(two_distributors: dict[str, Any], bea: Correspondent) -> None:
    team, distro_a = two_distributors["team"], two_distributors["a"]
    _on_organisation(
        team, distro_a, "add_member", email="cy@distro-a.test", name="Cy", public_key=bea.public_key()
    )
    cy = DistributorMember.objects.get(user__email="cy@distro-a.test")
    assert cy.state == MemberState.INVITED
    _on_organisation(team, distro_a, "reinvite", member=str(cy.pk))
    invitations = OutboundEmail.objects.filter(kind="distributor-invitation", message_id__isnull=False)
    assert sum(1 for o in invitations if o.message["to"] == ["cy@distro-a.test"]) == 2
    assert AuditEvent.objects.filter(action="distributors.member_reinvited", target_id=str(cy.pk)).exists()
    # Suspended, then reinstated before ever setting a password: invited again, not active.
    for state in ("suspended", "active"):
        _on_organisation(team, distro_a, "member_state", member=str(cy.pk), state=state)
    cy.refresh_from_db()
    assert cy.state == MemberState.INVITED
    # Only an invited person: someone active already has a password.
    ada = DistributorMember.objects.get(user__email="ada@distro-a.test")
    page = _on_organisation(team, distro_a, "reinvite", member=str(ada.pk), follow=True)
    assert "only an invited person" in page.content.decode()


def test_a_person_who_joins_after_a_share_gets_its_briefing(
    client: Client, two_distributors: dict[str, Any], relay: Relay, bea: Correspondent
) -> None:
    team, distro_a = two_distributors["team"], two_distributors["a"]
    number, _tracking = _case_under_embargo(client, team)
    _share(team, number, distro_a)
    _deliver_all(relay)
    # Cy joins Distro A afterwards (Bea's test key stands in for Cy's own).
    _on_organisation(
        team, distro_a, "add_member", email="cy@distro-a.test", name="Cy", public_key=bea.public_key()
    )
    cy_client = _join(client, _deliver_all(relay), "cy@distro-a.test", bea)
    # Told of the case at once; the briefing waits until Cy accepts the list's embargo policy.
    [notice] = _to(_deliver_all(relay), "cy@distro-a.test")
    readable = _read(notice, bea)
    assert f"shared case #{number}" in readable
    assert SECRET not in readable
    withheld = AuditEvent.objects.filter(action="distributors.notice_withheld")
    assert [e.details["member"] for e in withheld] == ["cy@distro-a.test"]
    cy_client.post(f"/distributor/p/{ATM}/policy/", {})
    case_url = f"/distributor/p/{ATM}/cases/{number}/"
    cy_client.post(f"{case_url}act/", {"action": "accept"})
    assert SECRET in cy_client.get(case_url).content.decode()


def test_an_early_publication_tells_the_organisations_and_the_reporter_why(
    client: Client,
    two_distributors: dict[str, Any],
    relay: Relay,
    ada: Correspondent,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from vulndesk.accounts.actions import do_create_user  # noqa: PLC0415
    from vulndesk.accounts.permissions import Role  # noqa: PLC0415
    from vulndesk.advisories.actions import (  # noqa: PLC0415
        do_approve_draft,
        do_create_advisory,
        do_edit_draft,
        do_publish_advisory,
    )
    from vulndesk.advisories.content import AdvisoryContent, AdvisoryError  # noqa: PLC0415
    from vulndesk.embargo.models import EarlyDisclosure, ExitReason  # noqa: PLC0415

    team = two_distributors["team"]
    number, _tracking = _case_under_embargo(client, team)
    _share(team, number, two_distributors["a"])
    _deliver_all(relay)
    report = Report.objects.get(project__slug=ATM, number=number)
    reviewer = do_create_user("rev@llmesh.test", role=Role.TEAM, project=report.project, acting_user=None)
    author = User.objects.exclude(pk=reviewer.pk).get(memberships__project=report.project)
    advisory = do_create_advisory(report.project, report=report, acting_user=author)
    content = AdvisoryContent(
        title="The planner evaluates tool output",
        summary="Tool output reached eval(); fixed in 1.1.3, 1.2.1 and 1.3.2.",
        affected=[{"package": PACKAGE, "affected": "<1.1.3"}],
    )
    do_edit_draft(advisory, content, acting_user=author)
    do_approve_draft(advisory, acting_user=reviewer)
    # The embargo agreed with the reporter is days ahead: publishing now needs the team's reason.
    with pytest.raises(AdvisoryError, match="early-disclosure decision"):
        do_publish_advisory(advisory, acting_user=reviewer)
    why = "A conference talk on the same bug is scheduled for tomorrow morning."
    early = EarlyDisclosure(reason=ExitReason.EARLY_OTHER, note=why)
    with django_capture_on_commit_callbacks(execute=True):
        do_publish_advisory(advisory, acting_user=reviewer, early_disclosure=early)
    raw = _deliver_all(relay)
    subjects = {str(_inner(m, ada)["Subject"]): m for m in _to(raw, "ada@distro-a.test")}
    [published] = [m for subject, m in subjects.items() if "Advisory published" in subject]
    assert advisory.identifier in _read(published, ada)
    [ended] = [m for subject, m in subjects.items() if "Embargo ended" in subject]
    assert f"Disclosed early by the security team: {why}" in _read(ended, ada)
    assert "Disclosed as agreed" not in _read(ended, ada)
    assert not _to(raw, "bea@vendor-b.test")  # Vendor B was never told, and is not now
    [to_reporter] = [m for m in _to(raw, "rita@researcher.test") if "embargo has ended" in str(m["Subject"])]
    reporter_text = to_reporter.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert why in reporter_text


def test_the_form_answers_alike_for_a_name_on_the_list_and_its_look_alikes(
    client: Client, project_b: Project, bob: User, ada: Correspondent
) -> None:
    key = ada.public_key()
    first = _apply(client, "OrgA", "a1@org-a.test", key)
    # The same name, the last letter Cyrillic, full-width letters: each answered as a new name is.
    answers = [
        _apply(client, name, f"a{n}@org-a.test", key, website="https://org-a.example")
        for n, name in enumerate(["OrgA", "Org\u0410", "\uff2f\uff52\uff47\uff41"], start=2)
    ]
    unrelated = _apply(client, "OrgB", "b@org-b.test", key)
    for answer in [*answers, unrelated]:
        assert answer.status_code == first.status_code == 201
        assert answer.content == first.content
        assert "already" not in answer.content.decode()
    original = Organisation.objects.get(name="OrgA", resembles__isnull=True)
    look_alikes = Organisation.objects.filter(resembles=original)
    assert sorted(o.name for o in look_alikes) == sorted(["OrgA", "Org\u0410", "\uff2f\uff52\uff47\uff41"])
    assert Organisation.objects.get(name="OrgB").resembles is None
    # The team sees each look-alike, next to the organisation it looks like.
    page = signed_in(bob).get(f"/desk/p/{ATM}/distributors/").content.decode()
    assert page.count(f'This name looks like that of <a href="#org-{original.pk}">OrgA</a>') == 3
    assert "This name holds U+0410 CYRILLIC CAPITAL LETTER A." in page


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("OrgA", "Org\u0410"),  # Cyrillic capital A
        ("OrgA", "orga"),
        ("OrgA", "\uff2f\uff52\uff47\uff21"),  # full-width
        ("Debian", "Deb\u0456an"),  # Cyrillic i
        ("Red Hat", "Red\u00a0 Hat"),
        ("Red Hat", "Red\u200b Hat"),
        ("Paypal", "PayPa\u217c"),  # small roman numeral fifty
        ("Distro", "D\u0456str\u03bf"),
    ],
)
def test_organisation_names_that_look_alike_share_a_comparison_key(one: str, other: str) -> None:
    from vulndesk.distributors.names import comparison_key  # noqa: PLC0415

    assert comparison_key(one) == comparison_key(other)
    assert comparison_key(one) != comparison_key(one + "x")


def test_distributor_access_follows_the_embargo_the_member_accepted(
    client: Client, two_distributors: dict[str, Any]
) -> None:
    team, ada_client = two_distributors["team"], two_distributors["ada"]
    number, _tracking = _case_under_embargo(client, team)
    _share(team, number, two_distributors["a"])
    case_url = f"/distributor/p/{ATM}/cases/{number}/"
    status = {"action": "status", "product": "distro-a llmesh", "status": "affected"}
    ada_client.post(f"{case_url}act/", {"action": "accept"})
    assert SECRET in ada_client.get(case_url).content.decode()
    # The team extends the embargo: Ada accepted the old end, not this one.
    later = (timezone.now() + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    team.post(f"/desk/p/{ATM}/reports/{number}/embargo/", {"action": "set", "zone": "UTC", "ends_at": later})
    page = ada_client.get(case_url).content.decode()
    assert SECRET not in page
    assert "The embargo changed since you accepted it" in page
    refused = ada_client.post(f"{case_url}act/", status, follow=True).content.decode()
    assert "accept this case&#x27;s embargo as it stands first" in refused
    assert not ProductStatus.objects.exists()
    ada_client.post(f"{case_url}act/", {"action": "accept"})
    assert SECRET in ada_client.get(case_url).content.decode()
    ada_client.post(f"{case_url}act/", status)
    assert ProductStatus.objects.count() == 1
    accepted = AuditEvent.objects.filter(action="distributors.case_embargo_accepted")
    assert accepted.count() == 2
    last = accepted.order_by("pk").last()
    assert last is not None
    assert last.details["embargo_ends_at"].startswith(later[:13])
    # The team abandons the embargo, with nothing published: access ends.
    team.post(f"/desk/p/{ATM}/reports/{number}/embargo/", {"action": "exit", "reason": "abandoned"})
    page = ada_client.get(case_url).content.decode()
    assert SECRET not in page
    assert "ended this case's embargo without publishing it" in page
    assert "Accept this case" not in page
    for action in (status, {"action": "accept"}):
        answer = ada_client.post(f"{case_url}act/", action, follow=True).content.decode()
        assert "it is no longer shared" in answer
    assert ProductStatus.objects.count() == 1
    assert "embargo ended by the team" in ada_client.get("/distributor/").content.decode()


def _shared_with_ada(client: Client, two_distributors: dict[str, Any]) -> tuple[CaseShare, DistributorMember]:
    """A case under an agreed embargo, shared with Distro A; Ada has not accepted its embargo yet."""
    team = two_distributors["team"]
    number, _tracking = _case_under_embargo(client, team)
    _share(team, number, two_distributors["a"])
    share = CaseShare.objects.select_related("report__project").get(report__number=number)
    return share, DistributorMember.objects.select_related("user").get(user__email="ada@distro-a.test")


def test_a_distributor_proposes_a_date_only_when_the_policy_negotiates_with_distributors(
    client: Client, two_distributors: dict[str, Any]
) -> None:
    from vulndesk.projects.actions import do_update_policy  # noqa: PLC0415
    from vulndesk.projects.policy import parse_policy_toml  # noqa: PLC0415

    share, ada = _shared_with_ada(client, two_distributors)
    do_accept_case_embargo(share, ada, acting_user=ada.user)
    later = timezone.now() + dt.timedelta(days=20)
    proposal = do_propose_disclosure_date(share, ada, later, note="our build", acting_user=ada.user)
    assert proposal.note == "Distro A: our build"
    project = share.report.project
    text = re.sub(r"negotiated_with = \[[^\]]*\]", 'negotiated_with = ["reporter"]', project.policy.as_toml())
    do_update_policy(project, parse_policy_toml(text), acting_user=None)
    share = CaseShare.objects.select_related("report__project").get(pk=share.pk)
    assert share.report.project.policy.disclosure.negotiated_with == ["reporter"]
    with pytest.raises(DistributorError, match="without its distributors"):
        do_propose_disclosure_date(share, ada, later, note="", acting_user=ada.user)
    assert share.report.embargo.proposals.filter(proposer_kind="distributor").count() == 1


def test_a_member_bound_to_an_older_embargo_policy_cannot_act_on_a_case_by_any_action(
    client: Client, two_distributors: dict[str, Any]
) -> None:
    from vulndesk.projects.actions import do_update_policy  # noqa: PLC0415
    from vulndesk.projects.policy import parse_policy_toml  # noqa: PLC0415

    share, ada = _shared_with_ada(client, two_distributors)
    do_accept_case_embargo(share, ada, acting_user=ada.user)
    project = share.report.project
    text = project.policy.as_toml().replace('embargo_policy_version = "1"', 'embargo_policy_version = "2"')
    do_update_policy(project, parse_policy_toml(text), acting_user=None)
    share = CaseShare.objects.select_related("report__project").get(pk=share.pk)
    ada.refresh_from_db()
    before = AuditEvent.objects.count()
    later = timezone.now() + dt.timedelta(days=20)
    attempts: list[Callable[[], object]] = [
        lambda: do_accept_case_embargo(share, ada, acting_user=ada.user),
        lambda: do_read_briefing(share, ada, acting_user=ada.user),
        lambda: do_set_product_status(
            share, ada, acting_user=ada.user, product="llmesh", status=ProductState.AFFECTED
        ),
        lambda: do_propose_disclosure_date(share, ada, later, note="", acting_user=ada.user),
        lambda: do_report_member_leak(
            share, ada, what="the PoC", to_whom="a blog", happened_at=None, acting_user=ada.user
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PolicyNotAcceptedError, match="current embargo policy"):
            attempt()
    assert AuditEvent.objects.count() == before
    # Once she accepts the new text, the same action goes through.
    do_accept_embargo_policy(ada, acting_user=ada.user)
    do_set_product_status(share, ada, acting_user=ada.user, product="llmesh", status=ProductState.AFFECTED)
    assert share.product_statuses.get().status == ProductState.AFFECTED
