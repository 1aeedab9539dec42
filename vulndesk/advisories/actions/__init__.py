"""Every change to an advisory: draft, review, share, schedule, publish, revise, withdraw.

Publication is one transaction: the revision, the public fields, the announcements (in the outbox)
and the case's "public" event commit together or not at all, and publishing what is already
published changes nothing, so a worker that retries after a crash cannot publish twice.

Publication honours the embargo: before the agreed end, nobody publishes (web, API, CLI or a
schedule) without an explicit early-disclosure decision and its reason, which the embargo's exit
records and the reporter and distributors read at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from vulndesk.advisories import emails, hooks
from vulndesk.advisories.content import (
    AdvisoryContent,
    AdvisoryError,
    check_content,
    check_cve_id,
    check_other_ids,
)
from vulndesk.advisories.models import Advisory, AdvisoryRevision, AdvisoryState, Subscription
from vulndesk.advisories.publication_check import export_problems
from vulndesk.audit.actions import record_event
from vulndesk.cases.actions.case_events import do_record_case_public
from vulndesk.cases.actions.fixes import fix_plan_of
from vulndesk.cases.models import Triage
from vulndesk.cases.vultron import EMState
from vulndesk.embargo.actions import do_exit_embargo
from vulndesk.embargo.models import EarlyDisclosure, Embargo, ExitReason
from vulndesk.intake.models import CreditPreference, Report
from vulndesk.notify.actions import queue_email
from vulndesk.notify.models import WebhookEvent
from vulndesk.notify.webhooks import queue_webhooks
from vulndesk.projects.models import Project
from vulndesk.projects.policy import DuplicateCredit

if TYPE_CHECKING:
    from vulndesk.accounts.models import User

MIN_WITHDRAW_REASON = 20
logger = logging.getLogger(__name__)


def latest_revision(advisory: Advisory) -> AdvisoryRevision:
    return advisory.revisions.order_by("-number").first()  # type: ignore[return-value]  # every advisory has one


def draft_revision(advisory: Advisory) -> AdvisoryRevision | None:
    """The revision being written: the latest, when it is not published yet."""
    latest = latest_revision(advisory)
    return latest if latest.published_at is None else None


def do_create_advisory(
    project: Project, *, report: Report | None = None, acting_user: User | None, is_example: bool = False
) -> Advisory:
    """A draft, filled in from the case when there is one."""
    content = content_from_case(report) if report is not None else AdvisoryContent()
    year = timezone.now().year
    with transaction.atomic():
        # Numbers count up per project: lock the project row so two drafts never take the same one
        # (PostgreSQL refuses FOR UPDATE on an aggregate).
        Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        last = Advisory.objects.filter(project=project, year=year).aggregate(n=Max("sequence"))
        sequence = (last["n"] or 0) + 1
        advisory = Advisory.objects.create(
            project=project,
            report=report,
            identifier=f"x_{project.policy.project.advisory_prefix}-{year}-{sequence:04d}",
            year=year,
            sequence=sequence,
            is_example=is_example,
            created_by=acting_user,
        )
        _new_revision(advisory, content, acting_user=acting_user, change_summary="First draft.")
        advisory.publish_at = _agreed_disclosure(report)
        advisory.save(update_fields=["publish_at"])
        if advisory.publish_at is not None:
            at = advisory.publish_at
            transaction.on_commit(lambda: _queue_publication(at))
        record_event("advisory.created", acting_user=acting_user, project=project, target=advisory)
    return advisory


def _agreed_disclosure(report: Report | None) -> dt.datetime | None:
    """A case under an agreed embargo publishes its advisory when the embargo ends."""
    if report is None:
        return None
    embargo = Embargo.objects.filter(report=report, state__in=[EMState.ACTIVE, EMState.REVISE]).first()
    return embargo.ends_at if embargo else None


def embargo_end_ahead(report: Report | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """The agreed end of the case's embargo while it is still ahead: publishing before it is early."""
    end = _agreed_disclosure(report)
    return end if end is not None and end > (now or timezone.now()) else None


def _check_embargo(
    report: Report | None, early_disclosure: EarlyDisclosure | None, now: dt.datetime
) -> EarlyDisclosure | None:
    """The early-disclosure decision that applies, or an error when one is needed and missing.

    A decision given when no embargo runs changes nothing: the publication is simply on time."""
    if report is not None:
        # Lock the embargo row: an end agreed at this very moment must not slip past the check.
        Embargo.objects.select_for_update().filter(report=report).first()
    end = embargo_end_ahead(report, now)
    if end is None:
        return None
    if early_disclosure is None:
        message = (
            f"embargo: the agreed embargo ends {end:%Y-%m-%d %H:%M} UTC; publishing before then "
            "needs an early-disclosure decision with its reason"
        )
        raise AdvisoryError([message])
    problems = early_disclosure.problems()
    if problems:
        raise AdvisoryError(problems)
    return early_disclosure


def content_from_case(report: Report) -> AdvisoryContent:
    triage = Triage.objects.filter(report=report).first()
    return AdvisoryContent(
        title=report.title,
        affected=[{"package": a.package, "affected": a.affected} for a in report.affected_packages.all()],
        cvss31_vector=triage.cvss31_vector if triage else "",
        cvss40_vector=triage.cvss40_vector if triage else "",
        cwes=list(triage.cwes) if triage else [],
        credits=drafted_credits(report),
        mitigations=fix_plan_of(report).mitigations,
    )


def drafted_credits(report: Report) -> list[dict[str, str]]:
    """The original reporter, then the reporters of its duplicates the policy credits (credit.duplicates)."""
    drafted: list[dict[str, str]] = []
    for credited in [report, *credited_duplicates(report)]:
        drafted += [c for c in reporter_credit(credited) if c not in drafted]
    return drafted


def credited_duplicates(report: Report) -> list[Report]:
    """Duplicates in the order they arrived, as far as the policy credits them."""
    rule = report.project.policy.credit.duplicates
    if rule == DuplicateCredit.FIRST_REPORTER:
        return []
    duplicates = Report.objects.filter(triage__duplicate_of=report).order_by("received_at", "pk")
    fixed_at = fix_plan_of(report).fix_available_at
    if rule == DuplicateCredit.REPORTERS_BEFORE_FIX and fixed_at is not None:
        # Once a fix is out, a report of the same issue found nothing the project did not know.
        duplicates = duplicates.filter(received_at__lt=fixed_at)
    return list(duplicates)


def reporter_credit(report: Report) -> list[dict[str, str]]:
    """The reporter's own choice: by name, by handle, or not at all."""
    reporter = report.reporter
    preference = reporter.get("credit", CreditPreference.NAME)
    if reporter.get("anonymous") or preference == CreditPreference.ANONYMOUS:
        return []
    name = reporter.get("credit_handle") if preference == CreditPreference.HANDLE else reporter.get("name")
    return [{"name": str(name), "type": "finder"}] if name else []


def _new_revision(
    advisory: Advisory, content: AdvisoryContent, *, acting_user: User | None, change_summary: str
) -> AdvisoryRevision:
    number = (advisory.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    revision = AdvisoryRevision(
        advisory=advisory,
        number=number,
        created_by=acting_user,
        edited_by=acting_user,
        change_summary=change_summary,
    )
    revision.content = content.as_json()
    revision.save()
    return revision


def do_edit_draft(
    advisory: Advisory,
    content: AdvisoryContent,
    *,
    cve_id: str = "",
    change_summary: str = "",
    acting_user: User,
) -> AdvisoryRevision:
    """Save the draft; any change withdraws an earlier approval (reviewers approve what is published)."""
    problems = check_content(content, for_publication=False) + check_cve_id(cve_id.strip())
    problems += check_other_ids(content, identifier=advisory.identifier, cve_id=cve_id.strip())
    if problems:
        raise AdvisoryError(problems)
    with transaction.atomic():
        locked = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
        if locked.state == AdvisoryState.WITHDRAWN:
            raise AdvisoryError(["state: a withdrawn advisory cannot be edited"])
        draft = draft_revision(locked)
        if draft is None:
            raise AdvisoryError(["state: the advisory is published; start a revision to change it"])
        draft.content = content.as_json()
        draft.change_summary = change_summary.strip()[:300] or draft.change_summary
        draft.edited_by, draft.approved_by, draft.approved_at = acting_user, None, None
        draft.save()
        locked.cve_id = cve_id.strip()
        locked.save(update_fields=["cve_id"])
        record_event("advisory.draft_edited", acting_user=acting_user, project=locked.project, target=locked)
    return draft


def do_approve_draft(advisory: Advisory, *, acting_user: User) -> AdvisoryRevision:
    """A second pair of eyes: the last person to edit a draft cannot approve it."""
    with transaction.atomic():
        locked = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
        draft = draft_revision(locked)
        if draft is None:
            raise AdvisoryError(["state: there is no draft to approve"])
        if draft.edited_by_id == acting_user.pk:
            raise AdvisoryError(["approval: another member of the team must review what you wrote"])
        problems = check_content(AdvisoryContent.from_json(draft.content), for_publication=True)
        if problems:
            raise AdvisoryError(problems)
        draft.approved_by, draft.approved_at = acting_user, timezone.now()
        draft.save(update_fields=["approved_by", "approved_at"])
        record_event(
            "advisory.draft_approved",
            acting_user=acting_user,
            project=locked.project,
            target=locked,
            details={"revision": draft.number},
        )
    return draft


def do_share_draft_with_reporter(advisory: Advisory, *, acting_user: User) -> AdvisoryRevision:
    """The reporter reads the draft on their tracking page before it is published."""
    report = advisory.report
    if report is None:
        raise AdvisoryError(["reporter: this advisory does not come from a report"])
    with transaction.atomic():
        draft = draft_revision(Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk))
        if draft is None:
            raise AdvisoryError(["state: there is no draft to share"])
        draft.shared_with_reporter_at = timezone.now()
        draft.save(update_fields=["shared_with_reporter_at"])
        record_event(
            "advisory.draft_shared", acting_user=acting_user, project=advisory.project, target=advisory
        )
        if report.reporter.get("email"):
            queue_email(emails.draft_shared(report, advisory), project=advisory.project, report=report)
    return draft


def do_schedule_publication(
    advisory: Advisory, at: dt.datetime | None, *, acting_user: User | None
) -> Advisory:
    """Publish automatically at ``at`` (UTC), once the draft is approved; None cancels the schedule.

    A schedule never runs ahead of the agreed embargo end: an early publication is a decision a
    person takes by hand, with its reason."""
    if at is not None and at.utcoffset() is None:
        raise AdvisoryError(["publish_at: needs a timezone (times are stored in UTC)"])
    with transaction.atomic():
        locked = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
        if locked.state == AdvisoryState.WITHDRAWN:
            raise AdvisoryError(["state: a withdrawn advisory cannot be scheduled"])
        end = _agreed_disclosure(locked.report)
        if at is not None and end is not None and at < end:
            message = (
                f"publish_at: before the agreed embargo end ({end:%Y-%m-%d %H:%M} UTC); to publish "
                "earlier, publish by hand with an early-disclosure decision"
            )
            raise AdvisoryError([message])
        locked.publish_at = at
        locked.save(update_fields=["publish_at"])
        if at is not None:
            transaction.on_commit(lambda: _queue_publication(at))
        record_event(
            "advisory.scheduled",
            acting_user=acting_user,
            project=locked.project,
            target=locked,
            details={"publish_at": at.isoformat() if at else ""},
        )
    return locked


def _queue_publication(at: dt.datetime) -> None:
    # The task module builds on this one (its task publishes): it registers how it is queued.
    for queue in hooks.publication_queues:
        queue(at)


def schedule_at_embargo_end(embargo: Embargo, *, acting_user: User | None) -> None:
    """The advisory goes out when the embargo ends: the agreed moment is its publication time
    (registered in ``embargo.hooks.on_embargo_agreed``)."""
    for advisory in Advisory.objects.filter(report=embargo.report, state=AdvisoryState.DRAFT):
        do_schedule_publication(advisory, embargo.ends_at, acting_user=acting_user)


def do_publish_advisory(
    advisory: Advisory, *, acting_user: User | None, early_disclosure: EarlyDisclosure | None = None
) -> Advisory:
    """Publish the approved draft. Publishing what is already published is a no-op (retries are safe).

    Before the agreed embargo end, ``early_disclosure`` (the team's decision and reason) is required;
    the embargo then exits with that reason, never as "disclosed as agreed"."""
    return _publish_approved(
        advisory, acting_user=acting_user, early_disclosure=early_disclosure, now=timezone.now()
    )


def _publish_approved(
    advisory: Advisory,
    *,
    acting_user: User | None,
    early_disclosure: EarlyDisclosure | None,
    now: dt.datetime,
) -> Advisory:
    with transaction.atomic():
        locked = (
            Advisory.objects.select_for_update(of=("self",), no_key=True)
            .select_related("project", "report")
            .get(pk=advisory.pk)
        )
        draft = draft_revision(locked)
        if draft is None and locked.state == AdvisoryState.PUBLISHED:
            return locked
        if locked.state == AdvisoryState.WITHDRAWN:
            raise AdvisoryError(["state: a withdrawn advisory cannot be published again"])
        if draft is None or draft.approved_at is None:
            raise AdvisoryError(
                ["approval: a team member other than its author must approve the draft first"]
            )
        early = _check_embargo(locked.report, early_disclosure, now)
        # A public export link must never answer "cannot be exported": refuse now, with the reason.
        problems = export_problems(locked, draft, now)
        if problems:
            raise AdvisoryError(problems)
        _publish(locked, draft, acting_user=acting_user, early=early)
    return locked


def _publish(
    advisory: Advisory,
    revision: AdvisoryRevision,
    *,
    acting_user: User | None,
    early: EarlyDisclosure | None = None,
) -> None:
    now = timezone.now()
    content = AdvisoryContent.from_json(revision.content)
    first = advisory.published_at is None
    revision.published_at = now
    revision.save(update_fields=["published_at"])
    advisory.state, advisory.modified_at, advisory.publish_at = AdvisoryState.PUBLISHED, now, None
    advisory.published_at = advisory.published_at or now
    advisory.public_title, advisory.public_summary = content.title, content.summary
    advisory.save()
    record_event(
        "advisory.published",
        acting_user=acting_user,
        project=advisory.project,
        target=advisory,
        details={
            "revision": revision.number,
            "first": first,
            "early_disclosure": str(early.reason) if early else "",
        },
    )
    _announce(advisory, revision, first=first)
    if advisory.report is not None:
        do_record_case_public(advisory.report, acting_user=acting_user, via="advisory")
        _end_embargo(advisory.report, acting_user, early)
        if advisory.report.reporter.get("email"):
            queue_email(
                emails.published_to_reporter(advisory.report, advisory),
                project=advisory.project,
                report=advisory.report,
            )
    # Inside the publishing transaction, like the announcements: nothing a hook queues is lost.
    for hook in hooks.on_published:
        hook(advisory, revision)


def _announce(advisory: Advisory, revision: AdvisoryRevision, *, first: bool) -> None:
    url = emails.advisory_url(advisory)
    kind = "Published" if first else f"Revised (revision {revision.number})"
    queue_webhooks(
        advisory.project,
        WebhookEvent.ADVISORY_PUBLISHED,
        {
            "text": f"{kind}: {advisory.identifier}: {advisory.public_title} <{url}>",
            "event": str(WebhookEvent.ADVISORY_PUBLISHED),
            "project": advisory.project.slug,
            "advisory": {
                "id": advisory.identifier,
                "title": advisory.public_title,
                "summary": advisory.public_summary,
                "revision": revision.number,
                "published": advisory.published_at.isoformat() if advisory.published_at else "",
                "url": url,
            },
        },
    )
    for subscription in Subscription.objects.filter(
        project=advisory.project, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ):
        queue_email(
            emails.announcement(subscription, advisory, revision, first=first), project=advisory.project
        )


def _end_embargo(report: Report, acting_user: User | None, early: EarlyDisclosure | None) -> None:
    """Publication is the disclosure the embargo waited for, or, early, the team's decision."""
    if Embargo.objects.filter(report=report).exclude(state__in=[EMState.NONE, EMState.EXITED]).exists():
        reason, note = (early.reason, early.note) if early else (ExitReason.DISCLOSED, "")
        do_exit_embargo(report, reason=reason, note=note, acting_user=acting_user)


def do_revise_advisory(advisory: Advisory, *, acting_user: User) -> AdvisoryRevision:
    """Start a new revision of a published advisory, from its published text."""
    with transaction.atomic():
        locked = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
        if locked.state != AdvisoryState.PUBLISHED:
            raise AdvisoryError(["state: only a published advisory can be revised"])
        existing = draft_revision(locked)
        if existing is not None:
            return existing
        content = AdvisoryContent.from_json(latest_revision(locked).content)
        revision = _new_revision(locked, content, acting_user=acting_user, change_summary="")
        record_event(
            "advisory.revision_started", acting_user=acting_user, project=locked.project, target=locked
        )
    return revision


def do_withdraw_advisory(advisory: Advisory, reason: str, *, acting_user: User) -> Advisory:
    """Withdraw with a reason the world reads; the earlier text is no longer shown anywhere."""
    if len(reason.strip()) < MIN_WITHDRAW_REASON:
        raise AdvisoryError([f"reason: say why in at least {MIN_WITHDRAW_REASON} characters"])
    with transaction.atomic():
        locked = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
        if locked.state != AdvisoryState.PUBLISHED:
            raise AdvisoryError(
                ["state: only a published advisory can be withdrawn (delete a draft instead)"]
            )
        locked.state, locked.withdrawn_at, locked.withdrawn_reason = (
            AdvisoryState.WITHDRAWN,
            timezone.now(),
            reason.strip(),
        )
        locked.public_summary, locked.publish_at = "", None
        locked.save()
        record_event("advisory.withdrawn", acting_user=acting_user, project=locked.project, target=locked)
        for subscription in Subscription.objects.filter(
            project=locked.project, confirmed_at__isnull=False, unsubscribed_at__isnull=True
        ):
            queue_email(emails.withdrawal(subscription, locked), project=locked.project)
    return locked


def publish_due(now: dt.datetime | None = None) -> int:
    """The worker's part: publish every approved advisory whose time has come; how many it published."""
    moment = now or timezone.now()
    published = 0
    due = Advisory.objects.filter(
        publish_at__lte=moment, state__in=[AdvisoryState.DRAFT, AdvisoryState.PUBLISHED]
    )
    for advisory in due.order_by("publish_at", "pk"):
        draft = draft_revision(advisory)
        if draft is None or draft.approved_at is None:
            continue  # not approved yet: it waits, and the team sees it is late on the desk
        if embargo_end_ahead(advisory.report, moment) is not None:
            continue  # the embargo was extended after scheduling: it waits for the new end
        try:
            _publish_approved(advisory, acting_user=None, early_disclosure=None, now=moment)
        except AdvisoryError as exc:
            # It stays scheduled and late on the desk; one that cannot go out never stops the others.
            logger.warning("advisory %s not published: %d problems", advisory.identifier, len(exc.problems))
            continue
        published += 1
    return published
