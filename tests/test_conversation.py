from __future__ import annotations

import json
import re

from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.cases.models import Message
from vulndesk.intake.models import Report
from vulndesk.intake.replies import reply_address, report_for_reply_address
from vulndesk.notify.models import OutboundEmail

from .conftest import signed_in


def _report_with_link(client: Client) -> tuple[Report, str]:
    payload = json.dumps({"title": "t", "description": "d", "reporter_email": "rita@researcher.test"})
    body = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    path = re.sub(r"^http://testserver", "", body["tracking_url"])
    return Report.objects.get(number=body["number"]), path


def test_the_reporter_replies_on_the_tracking_page_and_the_team_reads_it(client: Client, alice: User) -> None:
    report, link = _report_with_link(client)
    response = client.post(link, {"body": "Here is a smaller proof of concept."})
    assert response.status_code == 302
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/")
    assert "Here is a smaller proof of concept." in page.content.decode()
    notice = OutboundEmail.objects.get(kind="reporter-replied")
    assert "smaller proof" not in json.dumps(notice.message)


def test_an_empty_reply_is_refused_with_a_message(client: Client, alice: User) -> None:
    _, link = _report_with_link(client)
    response = client.post(link, {"body": "   "})
    assert response.status_code == 400
    assert "is required" in response.content.decode()
    assert not Message.objects.exists()


def test_the_reporter_sees_team_messages_but_never_internal_notes(client: Client, alice: User) -> None:
    report, link = _report_with_link(client)
    team = signed_in(alice)
    team.post(f"/desk/p/llm-d/reports/{report.number}/messages/", {"body": "Thanks, we reproduced it."})
    team.post(
        f"/desk/p/llm-d/reports/{report.number}/messages/",
        {"body": "Looks like the router bug from March.", "visibility": "internal"},
    )
    tracking = client.get(link).content.decode()
    assert "Thanks, we reproduced it." in tracking
    assert "router bug from March" not in tracking
    mail = OutboundEmail.objects.get(kind="team-replied")
    assert mail.message["to"] == ["rita@researcher.test"]
    assert mail.message["reply_to"] == [reply_address(report)]
    assert "reproduced" not in json.dumps(mail.message)


def test_a_reply_address_opens_its_report_and_a_forged_one_opens_nothing(client: Client, alice: User) -> None:
    report, _ = _report_with_link(client)
    address = reply_address(report)
    assert report_for_reply_address(address) == report
    assert report_for_reply_address(address.upper()) == report
    forged = address.replace(address.split(".")[1][:4], "0000")
    assert report_for_reply_address(forged) is None
    assert report_for_reply_address("reply+nothing@example.org") is None


def test_another_team_cannot_post_into_a_report(client: Client, alice: User, bob: User) -> None:
    report, _ = _report_with_link(client)
    response = signed_in(bob).post(f"/desk/p/llm-d/reports/{report.number}/messages/", {"body": "hi"})
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_the_reporter_replaces_a_leaked_link_and_the_old_one_stops_working(
    client: Client, alice: User
) -> None:
    _, link = _report_with_link(client)
    page = client.post(link, {"action": "replace_link"}).content.decode()
    new_link = re.search(r'href="http://testserver(/t/[^"]+/)"', page)
    assert new_link
    assert client.get(link).status_code == 404
    assert client.get(new_link.group(1)).status_code == 200
    mail = OutboundEmail.objects.get(kind="tracking-link-replaced")
    assert new_link.group(1) in str(mail.message["text"])


def test_the_team_revokes_a_reporters_access(client: Client, alice: User) -> None:
    report, link = _report_with_link(client)
    response = signed_in(alice).post(
        f"/desk/p/llm-d/reports/{report.number}/tracking-link/", {"action": "revoke"}
    )
    assert response.status_code == 302
    assert client.get(link).status_code == 404
    assert report_for_reply_address(reply_address(report)) is None


def test_messages_render_markdown_and_hostile_markup_stays_inert(client: Client, alice: User) -> None:
    report, link = _report_with_link(client)
    hostile = (
        "**bold** <script>alert(1)</script> [click](javascript:alert(2)) "
        '<img src=x onerror="alert(3)"> <svg onload="alert(4)"></svg> <a style="x" href="https://ok.example">ok</a>'
    )
    client.post(link, {"body": hostile})
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    body = page.split('class="timeline-body prose"')[1].split("</div>")[0]
    assert "<strong>bold</strong>" in body
    # Hostile markup may remain as visible text; it must never become a tag or a link.
    for tag in ("<script", "<img", "<svg", "<a style", 'href="javascript'):
        assert tag not in body, tag
