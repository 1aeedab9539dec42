"""Each person chooses per kind of team notice: mail at once, the daily digest, or nothing; the
owner of a case cannot turn "overdue" off. New notices: assignment, review requested, embargo
ending. The browser journeys are in test_browser_notices.py; these speak about the rules.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.actions.notices import do_set_notice_preferences
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.advisories.actions import do_create_advisory
from vulndesk.advisories.actions.review import do_request_review
from vulndesk.advisories.content import AdvisoryError
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions import do_post_reporter_reply
from vulndesk.cases.actions.triage import do_assign
from vulndesk.cases.models import Via
from vulndesk.cases.reply_notices import send_due_reply_notices
from vulndesk.cases.tasks import sweep
from vulndesk.embargo.actions import do_set_embargo_end, send_embargo_ending_notices
from vulndesk.intake.models import Report
from vulndesk.notify.digest import daily_digests, send_due_digests
from vulndesk.notify.models import Delivery, Digest, DigestItem, NoticeKind, OutboundEmail
from vulndesk.notify.preferences import PreferenceError
from vulndesk.projects.models import Project

from .conftest import PASSWORD, a_report, signed_in


@pytest.fixture
def carol(project_a: Project) -> User:
    return do_create_user(
        "carol@llm-d.test", role=Role.TEAM, project=project_a, password=PASSWORD, acting_user=None
    )


def _mail(kind: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=kind).order_by("pk"))


def _choose(user: User, kind: NoticeKind, delivery: Delivery) -> None:
    do_set_notice_preferences(user, {kind: delivery}, acting_user=user)


# --- Choices ------------------------------------------------------------------------------------


def test_by_default_every_member_is_mailed_at_once(alice: User, carol: User, project_a: Project) -> None:
    a_report(project_a)
    assert _mail("new-report-team")[0].message["to"] == [alice.email, carol.email]


def test_a_member_who_chose_nothing_is_left_out_and_the_others_still_hear(
    alice: User, carol: User, project_a: Project
) -> None:
    _choose(carol, NoticeKind.NEW_REPORT, Delivery.NONE)
    a_report(project_a)
    assert _mail("new-report-team")[0].message["to"] == [alice.email]
    assert not DigestItem.objects.exists()


def test_when_nobody_wants_a_mail_none_is_queued(alice: User, project_a: Project) -> None:
    _choose(alice, NoticeKind.NEW_REPORT, Delivery.NONE)
    a_report(project_a)
    assert _mail("new-report-team") == []


def test_a_digest_choice_keeps_a_line_without_the_reports_text(alice: User, project_a: Project) -> None:
    _choose(alice, NoticeKind.NEW_REPORT, Delivery.DIGEST)
    report = a_report(project_a, title="Secret title", description="Secret details")
    assert _mail("new-report-team") == []
    item = DigestItem.objects.get(user=alice)
    assert item.kind == NoticeKind.NEW_REPORT
    assert f"#{report.number}" in item.subject
    assert "Secret" not in item.subject + item.url


def test_the_digest_goes_once_a_day_in_the_persons_own_morning(alice: User, project_a: Project) -> None:
    alice.timezone = "Asia/Tokyo"
    alice.save(update_fields=["timezone"])
    _choose(alice, NoticeKind.NEW_REPORT, Delivery.DIGEST)
    a_report(project_a, title="First")
    a_report(project_a, title="Second")
    # 22:30 UTC on the 3rd is 07:30 in Tokyo on the 4th: not yet morning there.
    assert send_due_digests(dt.datetime(2026, 12, 3, 22, 30, tzinfo=dt.UTC)) == 0
    # 23:30 UTC is 08:30 in Tokyo: the digest goes, listing both reports.
    assert send_due_digests(dt.datetime(2026, 12, 3, 23, 30, tzinfo=dt.UTC)) == 1
    (digest,) = _mail("daily-digest")
    assert digest.message["to"] == [alice.email]
    text = str(digest.message["text"])
    assert text.count("New security report #") == 2
    assert "Asia/Tokyo" in text
    assert "First" not in text
    assert Digest.objects.get(user=alice).local_date == dt.date(2026, 12, 4)
    # Run again the same day, with a new notice waiting: nothing more until tomorrow.
    a_report(project_a, title="Third")
    assert send_due_digests(dt.datetime(2026, 12, 4, 5, 0, tzinfo=dt.UTC)) == 0
    assert len(_mail("daily-digest")) == 1
    assert send_due_digests(dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)) == 1
    assert str(_mail("daily-digest")[1].message["text"]).count("New security report #") == 1


def test_the_digest_task_runs_and_queues_its_next_run(alice: User) -> None:
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415

    daily_digests.call()
    assert DBTaskResult.objects.filter(task_path=daily_digests.module_path, status="READY").count() == 1


def test_nobody_else_changes_a_persons_choices(alice: User, carol: User) -> None:
    with pytest.raises(PreferenceError, match="each person chooses their own"):
        do_set_notice_preferences(alice, {NoticeKind.OVERDUE: Delivery.NONE}, acting_user=carol)


# --- Overdue cannot be turned off by the owner ----------------------------------------------------


def test_an_owner_cannot_turn_overdue_off_in_the_action_or_the_form(alice: User, project_a: Project) -> None:
    report = a_report(project_a)
    do_assign(report, owner=alice, assignees=[], acting_user=alice)
    with pytest.raises(PreferenceError, match="you own open cases"):
        do_set_notice_preferences(alice, {NoticeKind.OVERDUE: Delivery.NONE}, acting_user=alice)
    page = signed_in(alice).post("/accounts/notices/", {"overdue": "none", "timezone": "Europe/Paris"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "You own open cases" in html
    assert 'value="Europe/Paris"' in html  # what was typed is kept
    alice.refresh_from_db()
    assert alice.timezone == "UTC"
    # A digest is still a way to hear of it.
    _choose(alice, NoticeKind.OVERDUE, Delivery.DIGEST)


def test_an_owner_who_chose_nothing_before_owning_the_case_still_hears_it_is_overdue(
    alice: User, carol: User, project_a: Project
) -> None:
    _choose(alice, NoticeKind.OVERDUE, Delivery.NONE)
    _choose(carol, NoticeKind.OVERDUE, Delivery.NONE)
    report = a_report(project_a)
    do_assign(report, owner=alice, assignees=[], acting_user=carol)
    sweep(report.received_at + dt.timedelta(days=60))
    escalations = _mail("sla-escalation")
    assert escalations
    assert all(m.message["to"] == [alice.email] for m in escalations)


def test_the_form_saves_choices_and_the_timezone(alice: User) -> None:
    page = signed_in(alice).post(
        "/accounts/notices/", {"reporter-replied": "digest", "assignment": "none", "timezone": "Europe/Paris"}
    )
    assert page.status_code == 302
    alice.refresh_from_db()
    assert alice.timezone == "Europe/Paris"
    assert AuditEvent.objects.filter(action="user.notices_changed", actor=alice).exists()
    shown = signed_in(alice).get("/accounts/").content.decode()
    assert 'name="reporter-replied" value="digest" checked' in shown
    bad = signed_in(alice).post("/accounts/notices/", {"timezone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert "is not a timezone" in bad.content.decode()


# --- The notices themselves ----------------------------------------------------------------------


def test_whoever_is_given_a_case_hears_of_it_and_not_whoever_gave_it(
    alice: User, carol: User, project_a: Project
) -> None:
    report = a_report(project_a)
    do_assign(report, owner=carol, assignees=[alice], acting_user=alice)
    (mail,) = _mail("case-assigned")
    assert mail.message["to"] == [carol.email]
    assert "made you the owner of" in str(mail.message["text"])
    do_assign(report, owner=carol, assignees=[alice], acting_user=alice)  # nothing new
    assert len(_mail("case-assigned")) == 1


def test_a_review_request_names_a_member_who_may_approve_and_mails_them(
    alice: User, carol: User, project_a: Project
) -> None:
    advisory = do_create_advisory(project_a, report=a_report(project_a), acting_user=alice)
    with pytest.raises(AdvisoryError):
        do_request_review(advisory, alice, acting_user=carol)  # the author cannot approve it
    page = signed_in(alice).post(
        f"/desk/p/llm-d/advisories/{advisory.identifier}/request-review/", {"reviewer": str(carol.pk)}
    )
    assert page.status_code == 302
    (mail,) = _mail("review-requested")
    assert mail.message["to"] == [carol.email]
    assert advisory.identifier in str(mail.message["subject"])
    editor = signed_in(carol).get(f"/desk/p/llm-d/advisories/{advisory.identifier}/").content.decode()
    assert "review asked of carol@llm-d.test" in editor
    assert AuditEvent.objects.filter(action="advisory.review_requested", actor=alice).exists()


def test_the_reporters_reply_notice_follows_the_choice(alice: User, carol: User, project_a: Project) -> None:
    _choose(carol, NoticeKind.REPORTER_REPLIED, Delivery.DIGEST)
    report = a_report(project_a)
    do_post_reporter_reply(report, "More details.", via=Via.WEB, acting_user=None)
    send_due_reply_notices(timezone.now() + dt.timedelta(hours=2))
    assert [m.message["to"] for m in _mail("reporter-replied")] == [[alice.email]]
    assert DigestItem.objects.get(user=carol).kind == NoticeKind.REPORTER_REPLIED


def test_the_team_hears_once_that_an_embargo_ends_in_two_days(bob: User, project_b: Project) -> None:
    report: Report = a_report(project_b)
    ends = (timezone.now() + dt.timedelta(days=10)).replace(second=0, microsecond=0)
    do_set_embargo_end(report, ends, acting_user=bob)
    assert send_embargo_ending_notices(ends - dt.timedelta(days=3)) == 0
    assert send_embargo_ending_notices(ends - dt.timedelta(days=1)) == 1
    assert send_embargo_ending_notices(ends - dt.timedelta(hours=12)) == 0
    (mail,) = _mail("embargo-ending-team")
    assert mail.message["to"] == [bob.email]
    assert "UTC" in str(mail.message["subject"])
