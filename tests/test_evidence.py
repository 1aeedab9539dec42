"""Evidence first: what real reports carry, the case page's panel, the queue's order by evidence,
and the "needs evidence" page whose request reaches the reporter as real mail."""

from __future__ import annotations

import json
import re
from email import message_from_string
from email.message import Message

import pytest
from django.db import connection
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.cases.actions.triage import do_mark_duplicate, do_mark_invalid, do_mark_valid
from vulndesk.cases.evidence import evidence_of, read_evidence
from vulndesk.cases.models import InfoRequest, ReportEvidence
from vulndesk.cases.models import Message as CaseMessage
from vulndesk.intake.actions import Provenance, do_receive_report
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import Submission
from vulndesk.notify.models import OutboundEmail
from vulndesk.notify.tasks import deliver
from vulndesk.projects.actions import do_record_release
from vulndesk.projects.models import Project

from .conftest import Relay, signed_in
from .test_smtp_intake import intake, mail, only_report, send, start_intake

__all__ = ["intake", "start_intake"]  # the real SMTP intake, as test_smtp_intake starts it

STRONG_REPORT = """The model router passes tool output to eval() in llm-d 0.3.1.

Steps to reproduce:
1. Start the router with the python tool enabled.
2. Send the prompt below.
3. Watch the shell command run on the host.

```python
router.handle({"tool": "python", "code": "__import__('os').system('id')"})
```
"""
WEAK_REPORT = "I think there might be a security problem in your router, please check it urgently."


def _api_report(
    client: Client, description: str, *, email: str = "rita@researcher.test", **extra: object
) -> Report:
    payload = {
        "title": "Router runs tool output",
        "description": description,
        "reporter_email": email,
        **extra,
    }
    response = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Report.objects.get(project__slug="llm-d", number=response.json()["number"])


@pytest.fixture
def llm_d_releases(project_a: Project) -> Project:
    """0.3.x is the most recent minor line, the one llm-d's policy supports; 0.2.x is not."""
    for version in ("0.2.0", "0.3.0", "0.3.1"):
        do_record_release(project_a, package="pkg:pypi/llm-d", version=version, acting_user=None)
    return project_a


def test_a_report_with_a_code_block_steps_and_a_released_version_carries_all_three(
    client: Client, llm_d_releases: Project
) -> None:
    report = _api_report(client, STRONG_REPORT)
    evidence = evidence_of(report)
    assert evidence.proof_of_concept == "code block"
    assert evidence.reproduction_steps
    assert evidence.versions == ("0.3.1",)
    assert evidence.missing == []
    assert not ReportEvidence.objects.get(report=report).needs_evidence


def test_a_vague_report_carries_nothing_and_an_unreleased_version_does_not_count(
    client: Client, llm_d_releases: Project
) -> None:
    report = _api_report(client, WEAK_REPORT + " Seen on 9.9.9 and at 127.0.0.1.")
    evidence = evidence_of(report)
    assert (evidence.proof_of_concept, evidence.reproduction_steps, evidence.versions) == ("", False, ())
    assert evidence.missing == [
        "the steps to reproduce the issue",
        "a proof of concept (code, a command or a file)",
    ]


def test_the_reproduction_steps_field_and_a_shell_session_count(client: Client, project_a: Project) -> None:
    report = _api_report(
        client,
        "The fetcher follows redirects.\n\n    $ curl http://router/fetch?url=http://169.254.169.254/",
        fields={"reproduction_steps": "Ask the router to fetch the metadata address."},
    )
    evidence = evidence_of(report)
    assert evidence.reproduction_steps
    assert evidence.proof_of_concept == "code block"


def test_a_mailed_report_with_an_attachment_has_a_proof_of_concept_but_no_steps(intake: int) -> None:
    message = mail("Router runs tool output")
    message.set_content("The router runs what the model says. See the attached script.")
    message.add_attachment(
        b"#!/bin/sh\ncurl -d @payload http://router/\n", "application", "x-sh", filename="poc.sh"
    )
    assert send(intake, message.as_bytes())[0] == 250
    evidence = evidence_of(only_report())
    assert evidence.proof_of_concept == "attachment"
    assert not evidence.reproduction_steps
    assert ReportEvidence.objects.get().needs_evidence


def test_what_evidence_names_is_sealed_and_only_its_strength_is_plain(
    client: Client, llm_d_releases: Project
) -> None:
    report = _api_report(client, STRONG_REPORT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_reportevidence WHERE report_id = %s", [report.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "0.3.1" not in row
    assert "code block" not in row
    assert ReportEvidence.objects.get(report=report).score == 5


def test_the_case_page_shows_the_evidence_panel_to_the_team(
    client: Client, alice: User, llm_d_releases: Project
) -> None:
    report = _api_report(client, STRONG_REPORT)
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    panel = page.split('id="evidence"')[1].split("</dl>")[0]
    assert "Yes</span> code block" in panel
    assert "0.3.1 (supported line 0.3.x)" in panel
    assert "First report from this address or key" in panel


def test_an_unsupported_release_is_named_as_such(
    client: Client, alice: User, llm_d_releases: Project
) -> None:
    report = _api_report(client, "Crash in llm-d 0.2.0 when the queue is empty.")
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    assert "0.2.0 (unsupported line 0.2.x)" in page


def test_the_senders_history_counts_their_earlier_reports_by_address_and_by_key(
    client: Client, alice: User, project_a: Project
) -> None:
    original = _api_report(client, WEAK_REPORT, email="other@researcher.test")
    first = _api_report(client, WEAK_REPORT, email="Sam@Researcher.test")
    do_mark_invalid(first, "This is the documented behaviour of the router.", acting_user=alice)
    second = _api_report(client, WEAK_REPORT, email="sam@researcher.test")
    do_mark_duplicate(second, original, acting_user=alice)
    third = _api_report(client, WEAK_REPORT, email="sam@researcher.test")
    do_mark_valid(third, acting_user=alice)
    # A fourth from another address, signed with the key that signed the third.
    fingerprint = "A" * 40
    Report.objects.filter(pk=third.pk).update(signer_fingerprint=fingerprint)
    signed = do_receive_report(
        project_a,
        Submission(title="t", description=WEAK_REPORT, reporter_email="sam@elsewhere.test"),
        channel=Channel.EMAIL,
        acting_user=None,
        provenance=Provenance(signature="valid", signer_fingerprint=fingerprint),
    ).report
    team = signed_in(alice)
    latest = _api_report(client, WEAK_REPORT, email="sam@researcher.test")
    page = team.get(f"/desk/p/llm-d/reports/{latest.number}/").content.decode()
    assert "3 other reports: 1 valid, 1 invalid, 1 duplicate, 0 undecided" in page
    page = team.get(f"/desk/p/llm-d/reports/{signed.number}/").content.decode()
    assert "1 other report: 1 valid, 0 invalid, 0 duplicates, 0 undecided" in page
    assert "sam@researcher.test" not in json.dumps(list(ReportEvidence.objects.values()), default=str)


def test_the_queue_sorted_by_evidence_puts_the_best_supported_report_first(
    client: Client, alice: User, llm_d_releases: Project
) -> None:
    weak = _api_report(client, WEAK_REPORT)
    strong = _api_report(client, STRONG_REPORT)
    middling = _api_report(client, "The router runs tool output.\n\n```\nrouter.run(output)\n```")
    newest_weak = _api_report(client, WEAK_REPORT)
    page = signed_in(alice).get("/desk/reports/?sort=evidence").content.decode()
    order = [int(n) for n in re.findall(r'href="/desk/p/llm-d/reports/(\d+)/"', page)]
    order = list(dict.fromkeys(order))
    assert order[:2] == [strong.number, middling.number]
    assert set(order[2:]) == {weak.number, newest_weak.number}
    assert 'value="evidence" selected' in page


def test_the_needs_evidence_page_lists_open_reports_lacking_steps_or_a_proof(
    client: Client, alice: User, llm_d_releases: Project
) -> None:
    weak = _api_report(client, WEAK_REPORT)
    strong = _api_report(client, STRONG_REPORT)
    decided = _api_report(client, WEAK_REPORT)
    do_mark_invalid(decided, "This is the documented behaviour of the router.", acting_user=alice)
    page = signed_in(alice).get("/desk/p/llm-d/needs-evidence/").content.decode()
    assert f"#{weak.number} Router runs tool output" in page
    assert f"reports/{strong.number}/" not in page
    assert f"reports/{decided.number}/" not in page
    assert "The steps to reproduce the issue" in page


def _delivered(relay: Relay) -> list[Message]:
    for uid in OutboundEmail.objects.values_list("uid", flat=True):
        deliver(str(uid))
    return [message_from_string(text) for text in relay.received]


def test_asking_for_the_missing_items_sends_an_information_request_and_the_answer_clears_it(
    client: Client, alice: User, project_a: Project, relay: Relay
) -> None:
    relay.start()
    payload = {
        "title": "Router runs tool output",
        "description": WEAK_REPORT,
        "reporter_email": "rita@researcher.test",
    }
    receipt = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    ).json()
    report = Report.objects.get(number=receipt["number"])
    _delivered(relay)  # the acknowledgement
    relay.received.clear()

    response = signed_in(alice).post(f"/desk/p/llm-d/needs-evidence/{report.number}/request/")
    assert response.status_code == 302
    request = InfoRequest.objects.get(report=report)
    assert (request.closes_at - request.asked_at).days == project_a.policy.sla.needs_info_days
    asked = CaseMessage.objects.filter(report=report, author_kind="team").get()
    assert (
        "- the steps to reproduce the issue\n- a proof of concept (code, a command or a file)" in asked.body
    )
    (sent,) = _delivered(relay)
    assert sent["To"] == "rita@researcher.test"
    assert f"#{report.number}" in str(sent["Subject"])
    raw = relay.received[0]
    assert "security problem in your router" not in raw  # the report's words stay on the server
    page = signed_in(alice).get("/desk/p/llm-d/needs-evidence/").content.decode()
    assert f"reports/{report.number}/" not in page  # asked already: waiting on the reporter

    tracking = re.sub(r"^http://testserver", "", receipt["tracking_url"])
    client.post(tracking, {"action": "reply", "body": STRONG_REPORT.replace("llm-d 0.3.1", "llm-d")})
    request.refresh_from_db()
    assert request.answered_at is not None
    assert evidence_of(report).missing == []
    assert (
        f"reports/{report.number}/"
        not in signed_in(alice).get("/desk/p/llm-d/needs-evidence/").content.decode()
    )


def test_a_report_that_has_both_is_not_asked(client: Client, alice: User, project_a: Project) -> None:
    report = _api_report(client, STRONG_REPORT)
    signed_in(alice).post(f"/desk/p/llm-d/needs-evidence/{report.number}/request/")
    assert not InfoRequest.objects.filter(report=report).exists()


def test_the_detector_reads_numbered_steps_but_not_a_single_numbered_line() -> None:
    one = read_evidence({"description": "1. The router is broken."}, 0, [])
    two = read_evidence({"description": "1) start it\n2) send the prompt"}, 0, [])
    assert (one.reproduction_steps, two.reproduction_steps) == (False, True)
