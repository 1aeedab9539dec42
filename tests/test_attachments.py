"""A reporter's attachments: the team downloads them, the reporter downloads their own, and a
distributor gets one only when the team shares it with that organisation on that case.

Every download is opaque bytes that no browser renders, is never cached, and is an audit event
that names the attachment by its id alone.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.distributors.actions import DistributorError
from vulndesk.distributors.actions.sharing import do_set_shared_attachments
from vulndesk.distributors.models import (
    CaseEmbargoAcceptance,
    CaseShare,
    DistributorMember,
    MemberState,
    Organisation,
    OrganisationState,
    SharedAttachment,
)
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.attachments import ascii_filename, content_disposition
from vulndesk.intake.models import Channel, Report, ReportAttachment
from vulndesk.intake.submission import Attachment, Submission
from vulndesk.projects.models import Project

from .conftest import a_report, signed_in

POC = b"#!/bin/sh\n# proof of concept: the planner hands tool output to eval\n"
POC_NAME = 'exploit "poc"; v2 r\u00e9sum\u00e9.html'
HTML = b"<html><script>alert(document.cookie)</script></html>"


def _received_with_files(project: Project) -> tuple[Report, str]:
    """A report sent with a proof of concept and an HTML page; its tracking path."""
    required = {f.name.value: "Details." for f in project.policy.reporter_guidance.fields if f.required}
    required.pop("description", None)
    submission = Submission(
        title="Tool output reaches eval()",
        description="See the attached script.",
        reporter_email="rita@researcher.test",
        fields=required,
        attachments=[
            Attachment(filename=POC_NAME, content_type="text/x-shellscript", content=POC),
            Attachment(filename="page.html", content_type="text/html", content=HTML),
        ],
    )
    received = do_receive_report(project, submission, channel=Channel.API, acting_user=None)
    assert received.tracking_token
    return received.report, f"/t/{received.tracking_token}/"


def _poc(report: Report) -> ReportAttachment:
    return next(a for a in report.attachments.all() if a.content == POC)


def _assert_a_safe_download(response: object, content: bytes) -> None:
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.content == content  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/octet-stream"  # type: ignore[index]
    assert response["Content-Disposition"].startswith("attachment; filename=")  # type: ignore[index]
    assert response["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert "no-store" in response["Cache-Control"].split(", ")  # type: ignore[index]


def _downloads() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action__in=["attachment.downloaded", "distributors.attachment_downloaded"]
        ).order_by("seq")
    )


def test_the_team_downloads_an_attachment_as_opaque_bytes_and_it_is_audited(alice: User) -> None:
    report, _ = _received_with_files(Project.objects.get(slug="llm-d"))
    team = signed_in(alice)
    page = team.get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    links = re.findall(r'href="(/desk/p/llm-d/reports/\d+/attachments/[0-9a-f-]+/)" download', page)
    assert len(links) == 2
    for link in links:
        response = team.get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
    poc = _poc(report)
    response = team.get(f"/desk/p/llm-d/reports/{report.number}/attachments/{poc.uid}/")
    _assert_a_safe_download(response, POC)
    events = _downloads()
    assert len(events) == 3
    assert events[-1].actor == alice
    assert events[-1].details == {"attachment": str(poc.uid), "by": "team"}
    assert events[-1].target_id == str(report.pk)


def test_an_html_attachment_is_never_rendered_inline(alice: User) -> None:
    report, _ = _received_with_files(Project.objects.get(slug="llm-d"))
    page = next(a for a in report.attachments.all() if a.content == HTML)
    response = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/attachments/{page.uid}/")
    _assert_a_safe_download(response, HTML)
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'


def test_the_audit_event_of_a_download_carries_neither_the_name_nor_the_contents(alice: User) -> None:
    report, _ = _received_with_files(Project.objects.get(slug="llm-d"))
    poc = _poc(report)
    signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/attachments/{poc.uid}/")
    (event,) = _downloads()
    recorded = str(event.details)
    assert "exploit" not in recorded
    assert "eval" not in recorded
    assert "r\u00e9sum" not in recorded


def test_a_file_name_becomes_safe_ascii_with_the_original_as_rfc_6266_filename_star() -> None:
    assert ascii_filename(POC_NAME) == "exploit_poc_v2_resume.html"
    assert ascii_filename("../../etc/passwd") == "etc_passwd"
    assert ascii_filename('a"\r\nSet-Cookie: x=1') == "a_Set-Cookie_x_1"
    assert ascii_filename("\u0434\u0430\u043d\u043d\u044b\u0435") == "attachment"
    assert ascii_filename("...") == "attachment"
    header = content_disposition(POC_NAME)
    assert header == (
        'attachment; filename="exploit_poc_v2_resume.html"; '
        "filename*=UTF-8''exploit%20%22poc%22%3B%20v2%20r%C3%A9sum%C3%A9.html"
    )
    assert all(32 <= ord(c) < 127 for c in header)
    assert content_disposition("poc.py") == 'attachment; filename="poc.py"'


def test_the_reporter_downloads_their_own_attachments_through_their_link_only(alice: User) -> None:
    project = Project.objects.get(slug="llm-d")
    report, tracking = _received_with_files(project)
    other, other_tracking = _received_with_files(project)
    reporter = Client()
    page = reporter.get(tracking).content.decode()
    poc = _poc(report)
    assert f'href="{tracking}attachments/{poc.uid}/" download' in page
    response = reporter.get(f"{tracking}attachments/{poc.uid}/")
    _assert_a_safe_download(response, POC)
    assert response["Referrer-Policy"] == "same-origin"
    (event,) = _downloads()
    assert event.actor is None
    assert event.details == {"attachment": str(poc.uid), "by": "reporter"}
    # Another report's link does not open this report's attachment, nor a forged one.
    assert reporter.get(f"{other_tracking}attachments/{poc.uid}/").status_code == 404
    assert reporter.get(f"/t/{'x' * 43}/attachments/{poc.uid}/").status_code == 404
    assert reporter.get(f"{tracking}attachments/{_poc(other).uid}/").status_code == 404
    assert reporter.get(f"{tracking}attachments/{uuid.uuid4()}/").status_code == 404
    assert len(_downloads()) == 1, "a refused download is not a download"


def test_a_revoked_link_downloads_nothing(alice: User) -> None:
    report, tracking = _received_with_files(Project.objects.get(slug="llm-d"))
    Report.objects.filter(pk=report.pk).update(tracking_revoked_at=timezone.now())
    assert Client().get(f"{tracking}attachments/{_poc(report).uid}/").status_code == 404


def test_other_teams_and_outsiders_get_404_for_an_attachment(
    admin: User, alice: User, bob: User, outsider: User
) -> None:
    report, _ = _received_with_files(Project.objects.get(slug="llm-d"))
    path = f"/desk/p/llm-d/reports/{report.number}/attachments/{_poc(report).uid}/"
    assert signed_in(admin).get(path).status_code == 200
    assert signed_in(bob).get(path).status_code == 404
    assert signed_in(outsider).get(path).status_code == 404
    assert Client().get(path)["Location"].startswith("/accounts/login/")
    # Another report's number with this attachment's id: 404, as for an id that never existed.
    elsewhere = a_report(Project.objects.get(slug="llm-d"))
    moved = f"/desk/p/llm-d/reports/{elsewhere.number}/attachments/{_poc(report).uid}/"
    assert signed_in(alice).get(moved).status_code == 404
    assert signed_in(alice).post(path).status_code == 405


# --- Distributors ---------------------------------------------------------------------------------


def _member(project: Project, name: str, address: str) -> DistributorMember:
    organisation = Organisation.objects.create(
        project=project, name=name, website="https://x.test", state=OrganisationState.APPROVED
    )
    return DistributorMember.objects.create(
        organisation=organisation,
        user=User.objects.create_user(address, "a long test password"),
        public_key="-----BEGIN PGP PUBLIC KEY BLOCK-----",
        fingerprint="0" * 40,
        state=MemberState.ACTIVE,
        embargo_policy_version=project.policy.distributors.embargo_policy_version,
        embargo_policy_accepted_at=timezone.now(),
    )


def _told(report: Report, member: DistributorMember, *, accepted: bool = True) -> CaseShare:
    share = CaseShare(report=report, organisation=member.organisation)
    share.summary = "embargoed summary"
    share.save()
    if accepted:
        CaseEmbargoAcceptance.objects.create(share=share, member=member)
    return share


@pytest.fixture
def shared_case(bob: User) -> dict[str, object]:
    """A case of the Agentic Tool Mesh told to Distro A (embargo accepted) and Vendor B."""
    project = Project.objects.get(slug="agentic-tool-mesh")
    report, _ = _received_with_files(project)
    dina, otto = (
        _member(project, "Distro A", "dina@distro-a.test"),
        _member(project, "Vendor B", "otto@vendor-b.test"),
    )
    return {
        "report": report,
        "dina": dina,
        "otto": otto,
        "share_a": _told(report, dina),
        "share_b": _told(report, otto),
    }


def test_a_distributor_downloads_only_what_the_team_shared_with_its_organisation(
    bob: User, shared_case: dict[str, object]
) -> None:
    report: Report = shared_case["report"]  # type: ignore[assignment]
    dina: DistributorMember = shared_case["dina"]  # type: ignore[assignment]
    otto: DistributorMember = shared_case["otto"]  # type: ignore[assignment]
    poc = _poc(report)
    case = f"/distributor/p/agentic-tool-mesh/cases/{report.number}/"
    path = f"{case}attachments/{poc.uid}/"
    ada, ot = signed_in(dina.user), signed_in(otto.user)
    assert ada.get(path).status_code == 404, "nothing is shared until the team says so"
    assert "attachments/" not in ada.get(case).content.decode()

    team = signed_in(bob)
    response = team.post(
        f"/desk/p/agentic-tool-mesh/reports/{report.number}/distributors/",
        {"action": "attachments", "organisation": str(dina.organisation.pk), "attachment": [str(poc.uid)]},
    )
    assert response.status_code == 302
    assert [row.attachment for row in SharedAttachment.objects.all()] == [poc]
    shared = AuditEvent.objects.get(action="distributors.attachments_shared")
    assert shared.actor == bob
    assert shared.details == {"organisation": "Distro A", "shared": [str(poc.uid)], "withdrawn": []}

    assert f'href="{path}" download' in ada.get(case).content.decode()
    _assert_a_safe_download(ada.get(path), POC)
    (event,) = _downloads()
    assert event.action == "distributors.attachment_downloaded"
    assert event.actor == dina.user
    assert event.details == {"attachment": str(poc.uid), "organisation": "Distro A"}

    # Vendor B was told about the case but was given no attachment; the other file is nobody's.
    assert ot.get(path).status_code == 404
    other = next(a for a in report.attachments.all() if a.pk != poc.pk)
    assert ada.get(f"{case}attachments/{other.uid}/").status_code == 404
    # The team takes it back: the download stops at once.
    team.post(
        f"/desk/p/agentic-tool-mesh/reports/{report.number}/distributors/",
        {"action": "attachments", "organisation": str(dina.organisation.pk)},
    )
    assert ada.get(path).status_code == 404
    withdrawn = AuditEvent.objects.filter(action="distributors.attachments_shared").order_by("seq").last()
    assert withdrawn is not None
    assert withdrawn.details == {"organisation": "Distro A", "shared": [], "withdrawn": [str(poc.uid)]}


def test_a_shared_attachment_waits_for_the_members_acceptance_of_the_embargo(bob: User) -> None:
    project = Project.objects.get(slug="agentic-tool-mesh")
    report, _ = _received_with_files(project)
    dina = _member(project, "Distro A", "dina@distro-a.test")
    share = _told(report, dina, accepted=False)
    do_set_shared_attachments(share, [_poc(report)], acting_user=bob)
    path = f"/distributor/p/agentic-tool-mesh/cases/{report.number}/attachments/{_poc(report).uid}/"
    assert signed_in(dina.user).get(path).status_code == 404
    CaseEmbargoAcceptance.objects.create(share=share, member=dina)
    assert signed_in(dina.user).get(path).status_code == 200


def test_an_attachment_of_another_report_cannot_be_shared(bob: User, shared_case: dict[str, object]) -> None:
    share: CaseShare = shared_case["share_a"]  # type: ignore[assignment]
    other, _ = _received_with_files(Project.objects.get(slug="agentic-tool-mesh"))
    with pytest.raises(DistributorError, match="another report"):
        do_set_shared_attachments(share, [_poc(other)], acting_user=bob)
    assert not SharedAttachment.objects.exists()


def test_the_team_shares_attachments_only_with_an_organisation_it_told(
    bob: User, shared_case: dict[str, object]
) -> None:
    report: Report = shared_case["report"]  # type: ignore[assignment]
    project = Project.objects.get(slug="agentic-tool-mesh")
    untold = Organisation.objects.create(
        project=project, name="Untold C", website="https://c.test", state=OrganisationState.APPROVED
    )
    signed_in(bob).post(
        f"/desk/p/agentic-tool-mesh/reports/{report.number}/distributors/",
        {"action": "attachments", "organisation": str(untold.pk), "attachment": [str(_poc(report).uid)]},
    )
    assert not SharedAttachment.objects.exists()
    assert not AuditEvent.objects.filter(action="distributors.attachments_shared").exists()


def test_the_distributors_section_offers_each_attachment_per_organisation_told(
    bob: User, shared_case: dict[str, object]
) -> None:
    report: Report = shared_case["report"]  # type: ignore[assignment]
    team, case = signed_in(bob), f"/desk/p/agentic-tool-mesh/reports/{report.number}/"
    # The case page summarizes; the choices are on the section's own page, so nothing typed is lost.
    assert "Share the case, choose the attachments" in team.get(case).content.decode()
    page = team.get(f"{case}edit/distributors/").content.decode()
    assert "Attachments Distro A may download" in page
    assert "Attachments Vendor B may download" in page
    assert page.count(f'value="{_poc(report).uid}"') == 2


def test_a_suspended_member_an_outdated_acceptance_or_a_removed_organisation_downloads_nothing(
    bob: User, shared_case: dict[str, object]
) -> None:
    report: Report = shared_case["report"]  # type: ignore[assignment]
    share: CaseShare = shared_case["share_a"]  # type: ignore[assignment]
    dina: DistributorMember = shared_case["dina"]  # type: ignore[assignment]
    do_set_shared_attachments(share, [_poc(report)], acting_user=bob)
    path = f"/distributor/p/agentic-tool-mesh/cases/{report.number}/attachments/{_poc(report).uid}/"
    assert signed_in(dina.user).get(path).status_code == 200
    DistributorMember.objects.filter(pk=dina.pk).update(state=MemberState.SUSPENDED)
    assert signed_in(dina.user).get(path).status_code == 404
    DistributorMember.objects.filter(pk=dina.pk).update(state=MemberState.ACTIVE)
    DistributorMember.objects.filter(pk=dina.pk).update(embargo_policy_version="an older text")
    assert signed_in(dina.user).get(path).status_code == 404, "the list's current policy comes first"
    DistributorMember.objects.filter(pk=dina.pk).update(embargo_policy_version=dina.embargo_policy_version)
    assert signed_in(dina.user).get(path).status_code == 200
    Organisation.objects.filter(pk=dina.organisation_id).update(state=OrganisationState.REMOVED)
    assert signed_in(dina.user).get(path).status_code == 404
