from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions.triage import do_accept, do_close, do_mark_duplicate, do_mark_valid
from vulndesk.cases.models import Resolution, Triage
from vulndesk.cases.vultron import TransitionError
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboundEmail

from .conftest import signed_in

REASON = "The endpoint is only reachable by administrators, who can already run any command."


def _report(client: Client, title: str = "t") -> tuple[Report, str]:
    payload = json.dumps({"title": title, "description": "d", "reporter_email": "rita@researcher.test"})
    body = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    return Report.objects.get(number=body["number"]), re.sub(r"^http://testserver", "", body["tracking_url"])


def test_rejecting_a_report_needs_a_written_reason_that_reaches_the_reporter(
    client: Client, alice: User
) -> None:
    report, link = _report(client)
    team = signed_in(alice)
    team.post(f"/desk/p/llm-d/reports/{report.number}/triage/", {"decision": "invalid", "reason": "no"})
    report.refresh_from_db()
    assert report.rm_state == "received"
    team.post(f"/desk/p/llm-d/reports/{report.number}/triage/", {"decision": "invalid", "reason": REASON})
    report.refresh_from_db()
    assert report.rm_state == "invalid"
    tracking = client.get(link).content.decode()
    assert "Not accepted as a vulnerability" in tracking
    assert "only reachable by administrators" in tracking
    mail = OutboundEmail.objects.filter(kind="status-changed").get()
    assert "not accepted as a vulnerability" in str(mail.message["subject"])
    assert "administrators" not in json.dumps(mail.message)


def test_a_valid_report_becomes_a_case_owned_by_the_team_member(client: Client, alice: User) -> None:
    report, _ = _report(client)
    do_mark_valid(report, acting_user=alice)
    triage = Triage.objects.get(report=report)
    assert triage.owner == alice
    assert triage.case_state == "Vfdpxa"
    assert AuditEvent.objects.filter(action="report.marked_valid", actor=alice).exists()


def test_a_valid_report_cannot_be_closed_before_it_is_accepted_or_deferred(
    client: Client, alice: User
) -> None:
    report, _ = _report(client)
    report = do_mark_valid(report, acting_user=alice)
    with pytest.raises(TransitionError, match="cannot become closed"):
        do_close(report, acting_user=alice)
    report = do_accept(report, acting_user=alice)
    assert do_close(report, acting_user=alice).rm_state == "closed"


def test_a_duplicate_links_to_the_original_and_tells_the_reporter(client: Client, alice: User) -> None:
    original, _ = _report(client, "first")
    copy, link = _report(client, "second")
    do_mark_duplicate(copy, original, acting_user=alice)
    assert Triage.objects.get(report=copy).duplicate_of == original
    assert Triage.objects.get(report=copy).resolution == Resolution.DUPLICATE
    assert f"already reported (report #{original.number})" in client.get(link).content.decode()


def test_the_desk_refuses_a_transition_vultron_forbids_with_a_message(client: Client, alice: User) -> None:
    report, _ = _report(client)
    team = signed_in(alice)
    response = team.post(f"/desk/p/llm-d/reports/{report.number}/triage/", {"decision": "close"}, follow=True)
    assert "a report that is received cannot become closed" in response.content.decode()


def test_another_team_cannot_triage(client: Client, alice: User, bob: User) -> None:
    report, _ = _report(client)
    response = signed_in(bob).post(f"/desk/p/llm-d/reports/{report.number}/triage/", {"decision": "valid"})
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.rm_state == "received"


def test_severity_is_computed_from_the_vectors_with_cwe_names(client: Client, alice: User) -> None:
    report, _ = _report(client)
    team = signed_in(alice)
    team.post(
        f"/desk/p/llm-d/reports/{report.number}/severity/",
        {
            "cvss31": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
            "cvss40": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
            "cwes": "CWE-77, 1427",
            "llm_risks": ["LLM01", "LLM06"],
        },
    )
    triage = Triage.objects.get(report=report)
    assert triage.cvss31_score == 9.1
    assert triage.rating == "Critical"
    assert triage.impacts == ["confidentiality", "integrity"]
    assert triage.cwes == ["CWE-77", "CWE-1427"]
    page = team.get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    assert "Improper Neutralization of Input Used for LLM Prompting" in page


def test_a_bad_vector_is_refused_naming_the_problem(client: Client, alice: User) -> None:
    report, _ = _report(client)
    response = signed_in(alice).post(
        f"/desk/p/llm-d/reports/{report.number}/severity/", {"cvss31": "CVSS:3.1/AV:Q"}, follow=True
    )
    assert "Severity not saved" in response.content.decode()
    assert "AV:Q" in response.content.decode()
    assert not Triage.objects.filter(report=report, cvss31_vector__gt="").exists()


def test_an_unknown_cwe_is_refused(client: Client, alice: User) -> None:
    report, _ = _report(client)
    response = signed_in(alice).post(
        f"/desk/p/llm-d/reports/{report.number}/severity/", {"cwes": "CWE-99999999"}, follow=True
    )
    assert "is not a CWE the catalog knows" in response.content.decode()


def test_a_bug_that_is_not_a_security_issue_becomes_public_bug_text(client: Client, alice: User) -> None:
    report, _ = _report(client, "Crash on empty config")
    team = signed_in(alice)
    team.post(
        f"/desk/p/llm-d/reports/{report.number}/triage/", {"decision": "not_security", "reason": REASON}
    )
    page = team.get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    assert "Text for a public bug report" in page
    assert "# Crash on empty config" in page
    assert "rita@researcher.test" not in page.split("Text for a public bug report")[1].split("</textarea>")[0]


def test_owner_and_assignees_come_from_the_projects_team(client: Client, alice: User, bob: User) -> None:
    from vulndesk.cases.actions.triage import do_assign  # noqa: PLC0415
    from vulndesk.intake.submission import SubmissionError  # noqa: PLC0415

    report, _ = _report(client)
    triage = do_assign(report, owner=alice, assignees=[alice], acting_user=alice)
    assert triage.owner == alice
    assert list(triage.assignees.all()) == [alice]
    with pytest.raises(SubmissionError, match=re.escape("not on the project's team: bob@atm.test")):
        do_assign(report, owner=bob, assignees=[], acting_user=alice)
    team = signed_in(alice)
    team.post(f"/desk/p/llm-d/reports/{report.number}/assign/", {"owner": "", "assignees": [str(bob.pk)]})
    assert list(Triage.objects.get(report=report).assignees.all()) == []


def test_a_duplicates_reporter_follows_the_original(client: Client, alice: User) -> None:
    original, _ = _report(client, "first")
    copy, link = _report(client, "second")
    do_mark_duplicate(copy, original, acting_user=alice)
    do_mark_valid(original, acting_user=alice)
    notice = OutboundEmail.objects.get(kind="original-changed")
    assert notice.message["to"] == ["rita@researcher.test"]
    assert "confirmed as a vulnerability" in str(notice.message["subject"])
    page = client.get(link).content.decode()
    assert f"Report #{original.number}, which is confirmed as a vulnerability" in page
    assert "first" not in page.split("Same issue as")[1].split("</dd>")[0]


def test_case_events_follow_vultron_and_the_reporter_is_told(client: Client, alice: User) -> None:
    from vulndesk.cases.actions.case_events import do_record_case_event  # noqa: PLC0415
    from vulndesk.cases.vultron import CaseEvent  # noqa: PLC0415

    report, link = _report(client)
    team = signed_in(alice)
    refused = team.post(
        f"/desk/p/llm-d/reports/{report.number}/triage/", {"decision": "event:D"}, follow=True
    )
    assert "the fix being deployed needs a fix being ready first" in refused.content.decode()
    triage = do_record_case_event(report, CaseEvent.EXPLOIT_PUBLIC, acting_user=alice)
    assert triage.case_state == "VfdPXa"
    assert (
        "An exploit for the issue has been published. The issue is now public."
        in client.get(link).content.decode()
    )
    with pytest.raises(TransitionError, match="already happened"):
        do_record_case_event(report, CaseEvent.PUBLIC_AWARE, acting_user=alice)
