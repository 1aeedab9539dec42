"""An advisory from a case to the world: drafted, reviewed, published, announced, revised, withdrawn."""

from __future__ import annotations

import json
import re
from email import message_from_string

import feedparser
import pytest
from django.test import Client

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.advisories.actions import do_approve_draft, do_create_advisory, publish_due
from vulndesk.advisories.actions.subscriptions import do_subscribe
from vulndesk.advisories.content import AdvisoryError
from vulndesk.advisories.models import Advisory, AdvisoryState, Subscription
from vulndesk.cases.actions.affected import do_set_affected_package
from vulndesk.cases.actions.triage import do_set_severity, triage_of
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, CreditPreference
from vulndesk.intake.submission import Submission
from vulndesk.notify.models import OutboundEmail
from vulndesk.notify.tasks import deliver
from vulndesk.projects.actions import do_import_policy
from vulndesk.projects.models import Project

from .conftest import PASSWORD, Relay, a_report, example_policy, signed_in

PACKAGES = {
    "llm-d": "pkg:pypi/llm-d",
    "agentic-tool-mesh": "pkg:pypi/llmesh",
    "fast-llm": "pkg:pypi/fast-llm",
}
SECRET_DETAIL = "The planner passes tool output to eval() unescaped"


def _team(project: Project, name: str) -> User:
    return do_create_user(
        f"{name}@{project.slug}.test", role=Role.TEAM, project=project, password=PASSWORD, acting_user=None
    )


def _project(slug: str) -> Project:
    return do_import_policy(example_policy(slug), acting_user=None)


def _subscribe(client: Client, project: Project, address: str) -> None:
    """Double opt-in: the form, then the link from the mail, then the button on its page."""
    client.post(f"/p/{project.slug}/announce/", {"email": address})
    mail = OutboundEmail.objects.filter(kind="announce-confirm").latest("pk")
    link = re.search(r"http://testserver(/p/\S+/announce/confirm/\S+/)", str(mail.message["text"]))
    assert link, "the confirmation mail carries the link"
    assert client.get(link.group(1)).status_code == 200
    assert not Subscription.objects.get(project=project).is_active  # a GET confirms nothing
    assert "Subscribed" in client.post(link.group(1)).content.decode()


def _draft_and_publish(project: Project, author: User, reviewer: User) -> Advisory:
    report = a_report(project, "Tool output reaches eval()")
    do_set_severity(
        report,
        acting_user=author,
        cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        cvss40_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
        cwes=["CWE-95"],
        llm_risks=[],
    )
    do_set_affected_package(
        report, package=PACKAGES[project.slug], affected=">=0.1.0|<0.4.2", acting_user=author
    )
    team = signed_in(author)
    editor = team.post(f"/desk/p/{project.slug}/reports/{report.number}/advisory/")
    assert editor.status_code == 302
    path = editor["Location"]
    page = team.get(path).content.decode()
    assert "Tool output reaches eval()" in page  # filled in from the case
    assert "CWE-95" in page
    saved = team.post(
        path,
        {
            "title": "Tool output reaches eval()",
            "summary": "A crafted tool answer runs code in the agent process.",
            "details": SECRET_DETAIL + ".",
            "affected-0-package": PACKAGES[project.slug],
            "affected-0-affected": "vers:pypi/>=0.1.0|<0.4.2",
            "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
            "cwes": "CWE-95",
            "credits-0-name": "Rita Researcher",
            "credits-0-type": "finder",
            "credits-1-name": "Alex Analyst",
            "credits-1-type": "analyst",
            "credits-2-name": "",  # an empty row the editor offered
            "credits-2-type": "finder",
            "mitigations": "Disable the `python` tool until you upgrade.",
            "references-0-url": "https://example.org/fix/1",
            "references-0-type": "FIX",
        },
    )
    assert saved.status_code == 302, saved.content.decode()
    advisory = Advisory.objects.get(report=report)
    not_yet = team.post(f"/desk/p/{project.slug}/advisories/{advisory.identifier}/publish/", follow=True)
    assert "another team member" in not_yet.content.decode()
    with pytest.raises(AdvisoryError, match="another member of the team"):
        do_approve_draft(advisory, acting_user=author)
    signed_in(reviewer).post(f"/desk/p/{project.slug}/advisories/{advisory.identifier}/approve/")
    published = team.post(f"/desk/p/{project.slug}/advisories/{advisory.identifier}/publish/", follow=True)
    assert "Published" in published.content.decode()
    advisory.refresh_from_db()
    return advisory


@pytest.mark.parametrize("slug", ["llm-d", "agentic-tool-mesh", "fast-llm"])
def test_an_advisory_goes_from_the_case_to_the_public_and_the_subscribers(
    slug: str, client: Client, relay: Relay, db: None
) -> None:
    project = _project(slug)
    author, reviewer = _team(project, "author"), _team(project, "reviewer")
    _subscribe(client, project, "sam@subscriber.test")
    advisory = _draft_and_publish(project, author, reviewer)
    assert advisory.state == AdvisoryState.PUBLISHED
    assert re.fullmatch(rf"x_{project.policy.project.advisory_prefix}-\d{{4}}-0001", advisory.identifier)
    assert "P" in triage_of(advisory.report).case_state  # type: ignore[arg-type]  # the case is public now

    page = client.get(f"/p/{slug}/advisories/{advisory.identifier}/").content.decode()
    assert SECRET_DETAIL in page
    assert "Disable the <code>python</code> tool" in page
    assert "Rita Researcher (Finder)" in page
    listing = client.get(f"/p/{slug}/advisories/?q=eval").content.decode()
    assert advisory.identifier in listing

    feed = feedparser.parse(client.get(f"/p/{slug}/advisories.atom").content)
    assert not feed.bozo, feed.bozo_exception
    assert [entry.title for entry in feed.entries] == [f"{advisory.identifier}: Tool output reaches eval()"]
    index = client.get(f"/p/{slug}/advisories.json").json()
    assert [a["id"] for a in index["advisories"]] == [advisory.identifier]

    # The announcement reaches the subscriber over SMTP, with a one-click unsubscribe (RFC 8058).
    relay.start()
    announcement = OutboundEmail.objects.get(kind="advisory-announcement")
    assert deliver(str(announcement.uid)) == "sent"
    received = message_from_string(relay.received[-1])
    assert received["To"] == "sam@subscriber.test"
    assert advisory.identifier in received["Subject"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # RFC 2919: one list per project, on the mail domain, so clients file the announcements.
    assert str(received["List-Id"]).endswith(f"<{slug}.announce.testserver>")
    link = re.search(r"<http://testserver([^>]+)>", received["List-Unsubscribe"])
    assert link, received["List-Unsubscribe"]
    unsubscribe = link.group(1)
    assert (
        Client().post(unsubscribe, "List-Unsubscribe=One-Click", content_type="text/plain").status_code == 200
    )
    assert not Subscription.objects.get(project=project).is_active
    # The reporter hears of it too.
    assert OutboundEmail.objects.filter(kind="advisory-published", report=advisory.report).count() == 1


def test_a_published_advisory_is_revised_and_then_withdrawn(
    client: Client, project_b: Project, bob: User
) -> None:
    reviewer = _team(project_b, "reviewer")
    do_subscribe(project_b, "sam@subscriber.test", acting_user=None)
    Subscription.objects.update(confirmed_at="2026-01-01T00:00:00Z")
    advisory = _draft_and_publish(project_b, bob, reviewer)
    team = signed_in(bob)
    base = f"/desk/p/agentic-tool-mesh/advisories/{advisory.identifier}"
    team.post(f"{base}/revise/")
    form = team.get(f"{base}/").content.decode()
    assert "Save the draft" in form
    team.post(
        f"{base}/",
        {
            "title": "Tool output reaches eval()",
            "summary": "A crafted tool answer runs code in the agent process. Fixed in 0.4.2.",
            "affected-0-package": "pkg:pypi/llmesh",
            "affected-0-affected": "vers:pypi/>=0.1.0|<0.4.2",
            "change_summary": "Name the fixed version.",
        },
    )
    signed_in(reviewer).post(f"{base}/approve/")
    team.post(f"{base}/publish/")
    page = client.get(f"/p/agentic-tool-mesh/advisories/{advisory.identifier}/").content.decode()
    assert "Fixed in 0.4.2" in page
    assert "revision 2" in page
    assert "Name the fixed version." in page
    assert OutboundEmail.objects.filter(kind="advisory-announcement").count() == 2

    refused = team.post(f"{base}/withdraw/", {"reason": "dup"}, follow=True).content.decode()
    assert "at least 20 characters" in refused
    team.post(f"{base}/withdraw/", {"reason": "It duplicates ATM-2026-0003, which has the complete fix."})
    page = client.get(f"/p/agentic-tool-mesh/advisories/{advisory.identifier}/").content.decode()
    assert "Withdrawn" in page
    assert "duplicates ATM-2026-0003" in page
    assert SECRET_DETAIL not in page  # the earlier text is gone from the public page
    assert "Fixed in 0.4.2" not in page
    assert OutboundEmail.objects.filter(kind="advisory-withdrawn").count() == 1


def test_scheduled_publication_waits_for_approval_and_happens_once(project_b: Project, bob: User) -> None:
    reviewer = _team(project_b, "reviewer")
    report = a_report(project_b)
    team = signed_in(bob)
    path = team.post(f"/desk/p/agentic-tool-mesh/reports/{report.number}/advisory/")["Location"]
    advisory = Advisory.objects.get(report=report)
    team.post(
        path,
        {
            "title": "T",
            "summary": "S",
            "affected-0-package": "pkg:pypi/llmesh",
            "affected-0-affected": "<1.0.0",
        },
    )
    team.post(f"{path}schedule/", {"publish_at": "2026-01-01T16:00"})
    assert publish_due() == 0  # due, but nobody approved it
    signed_in(reviewer).post(f"{path}approve/")
    assert publish_due() == 1
    assert publish_due() == 0
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.PUBLISHED
    assert advisory.publish_at is None


def test_the_feeds_name_their_author_carry_plain_text_and_link_every_export(
    client: Client, relay: Relay, db: None
) -> None:
    project = _project("llm-d")
    advisory = _draft_and_publish(project, _team(project, "author"), _team(project, "reviewer"))
    team_name = project.policy.project.security_team

    raw = client.get("/p/llm-d/advisories.atom").content
    feed = feedparser.parse(raw)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.author == team_name  # RFC 4287 section 4.1.1: a feed names its author
    [entry] = feed.entries
    assert entry.author == team_name
    assert entry.summary_detail.type == "text/plain"
    assert b'type="html"' not in raw

    listing = client.get("/p/llm-d/advisories/").content.decode()
    assert 'type="application/feed+json"' in listing  # feed discovery
    answer = client.get("/p/llm-d/feed.json")
    assert answer["Content-Type"] == "application/feed+json"
    json_feed = answer.json()
    assert json_feed["version"] == "https://jsonfeed.org/version/1.1"
    assert json_feed["authors"] == [{"name": team_name, "url": "http://testserver/p/llm-d/"}]
    [item] = json_feed["items"]
    assert item["content_text"] == "A crafted tool answer runs code in the agent process."
    exports = item["_vulndesk"]["exports"]
    assert set(exports) == {"osv", "cve", "csaf", "csaf-vex", "openvex"}
    assert client.get(exports["openvex"].removeprefix("http://testserver")).status_code == 200
    index = client.get("/p/llm-d/advisories.json").json()
    assert index["advisories"][0]["exports"] == exports
    assert advisory.identifier == item["_vulndesk"]["identifier"]


def test_the_reporter_reads_the_shared_draft_before_publication(
    client: Client, project_b: Project, bob: User
) -> None:
    body = client.post(
        "/api/v1/projects/agentic-tool-mesh/reports",
        json.dumps(
            {
                "title": "t",
                "description": "d",
                "reporter_email": "rita@researcher.test",
                "reporter_name": "Rita",
            }
        ),
        content_type="application/json",
    ).json()
    tracking = body["tracking_url"].removeprefix("http://testserver")
    team = signed_in(bob)
    path = team.post(f"/desk/p/agentic-tool-mesh/reports/{body['number']}/advisory/")["Location"]
    team.post(
        path,
        {
            "title": "Draft title",
            "summary": "Draft summary for Rita.",
            "credits-0-name": "Rita",
            "credits-0-type": "finder",
        },
    )
    assert "Draft summary for Rita." not in client.get(tracking).content.decode()  # not shared yet
    team.post(f"{path}share/")
    page = client.get(tracking).content.decode()
    assert "Draft summary for Rita." in page
    assert "Rita (finder)" in page
    assert OutboundEmail.objects.filter(kind="advisory-draft-shared").count() == 1


@pytest.mark.parametrize(
    ("credit", "expected"),
    [
        (CreditPreference.NAME, [{"name": "Rita Reporter", "type": "finder"}]),
        (CreditPreference.HANDLE, [{"name": "@rita", "type": "finder"}]),
        (CreditPreference.ANONYMOUS, []),
    ],
)
def test_a_draft_credits_the_reporter_as_they_asked(
    project_a: Project, credit: CreditPreference, expected: list[dict[str, str]]
) -> None:
    submission = Submission(
        title="t",
        description="d",
        reporter_email="rita@researcher.test",
        reporter_name="Rita Reporter",
        credit=credit,
        credit_handle="@rita",
        fields={
            f.name.value: "x"
            for f in project_a.policy.reporter_guidance.fields
            if f.required and f.name.value != "description"
        },
    )
    report = do_receive_report(project_a, submission, channel=Channel.API, acting_user=None).report
    draft = do_create_advisory(project_a, report=report, acting_user=None)
    assert draft.revisions.get().content["credits"] == expected


def test_publishing_needs_a_recent_confirmation(project_a: Project, alice: User, admin: User) -> None:
    import time  # noqa: PLC0415

    from vulndesk.accounts.views import SECOND_FACTOR_AT  # noqa: PLC0415
    from vulndesk.advisories.actions import do_edit_draft  # noqa: PLC0415
    from vulndesk.advisories.content import AdvisoryContent  # noqa: PLC0415

    advisory = do_create_advisory(project_a, acting_user=alice)
    content = AdvisoryContent(
        title="T", summary="S", affected=[{"package": "pkg:pypi/x", "affected": "<1.0"}]
    )
    do_edit_draft(advisory, content, acting_user=alice)
    do_approve_draft(advisory, acting_user=admin)
    team = signed_in(alice)
    session = team.session
    session[SECOND_FACTOR_AT] = int(time.time()) - 3600  # signed in an hour ago
    session.save()
    response = team.post(f"/desk/p/llm-d/advisories/{advisory.identifier}/publish/")
    assert response["Location"].startswith("/accounts/confirm/")
    advisory.refresh_from_db()
    assert advisory.state != AdvisoryState.PUBLISHED
