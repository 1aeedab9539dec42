"""Notices to distributors: one mail per active member, encrypted to that member's key.

The outbox refuses to send a mail with ``encrypt_to`` in clear: if the key no longer works, the
mail fails for good and admins see it, and the embargoed text never leaves the server unencrypted.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from vulndesk.audit.actions import record_event
from vulndesk.cases.vultron import EMState
from vulndesk.distributors import emails
from vulndesk.distributors.briefing import Briefing, briefing
from vulndesk.distributors.models import (
    CaseShare,
    DistributorMember,
    MemberState,
    OrganisationState,
    needs_policy_acceptance,
)
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    from vulndesk.advisories.models import Advisory, AdvisoryRevision
    from vulndesk.embargo.models import Embargo


class Stage(StrEnum):
    FIRST = "first"  # the case is shared: everything known, and the disclosure moment
    CHANGED = "changed"  # the disclosure moment moved
    FINAL = "final"  # distributor_final_notice_hours before the end
    ENDED = "ended"  # the embargo ended early: disclosure moves forward now
    PUBLISHED = "published"  # the advisory is public


def send_notice(share: CaseShare, stage: Stage, **extra: str) -> int:
    """Queue the notice for every active member; inside the caller's transaction.

    Only a member bound by the list's current embargo policy gets the briefing; one who has not
    accepted its current text yet gets a notice without it, asking them to accept it in the portal.
    Each briefing sent is an audited read of embargoed material.
    """
    members = share.organisation.members.select_related("user").filter(state=MemberState.ACTIVE)
    content = briefing(share)
    for member in members:
        _notify(share, member, stage, content, **extra)
    now = timezone.now()
    embargo_end = getattr(getattr(share.report, "embargo", None), "ends_at", None)
    if stage == Stage.FIRST:
        share.notice_sent_at, share.told_end_at = now, embargo_end
    elif stage == Stage.CHANGED:
        share.told_end_at = embargo_end
    elif stage == Stage.FINAL:
        share.final_notice_sent_at, share.final_notice_for_end = now, embargo_end
    elif stage == Stage.ENDED:
        share.ended_notice_sent_at = now
    share.save()
    return len(members)


def _notify(
    share: CaseShare, member: DistributorMember, stage: Stage, content: Briefing, **extra: str
) -> None:
    project = share.report.project
    bound = not needs_policy_acceptance(member)
    queue_email(emails.notice(share, member, stage, content if bound else None, **extra), project=project)
    record_event(
        "distributors.notice_sent" if bound else "distributors.notice_withheld",
        acting_user=None,
        project=project,
        target=share.report,
        details={"member": member.user.email, "organisation": share.organisation.name, "stage": stage},
    )


def brief_newcomer(member: DistributorMember) -> int:
    """Someone who becomes active after cases were shared with their organisation (a new person,
    or one reinstated) gets the first notice of each case still under embargo, as the others did."""
    if member.organisation.state != OrganisationState.APPROVED:
        return 0
    shares = CaseShare.objects.select_related("report__project", "organisation").filter(
        organisation=member.organisation,
        notice_sent_at__isnull=False,
        report__embargo__state__in=[EMState.ACTIVE, EMState.REVISE],
    )
    for share in shares:
        _notify(share, member, Stage.FIRST, briefing(share))
    return len(shares)


def _live_shares(report_id: int) -> list[CaseShare]:
    return list(
        CaseShare.objects.select_for_update()
        .select_related("report__project", "organisation")
        .filter(report_id=report_id, organisation__state=OrganisationState.APPROVED)
    )


def on_embargo_changed(embargo: Embargo) -> None:
    """Registered on the embargo's hook: tell distributors at once when the end moves or comes early."""
    with transaction.atomic():
        for share in _live_shares(embargo.report_id):
            if embargo.state == EMState.EXITED:
                if share.ended_notice_sent_at is None:
                    send_notice(share, Stage.ENDED, reason=embargo.exit_reason_text)
            elif embargo.ends_at and share.told_end_at != embargo.ends_at:
                send_notice(share, Stage.CHANGED)
    if embargo.state in (EMState.ACTIVE, EMState.REVISE) and embargo.ends_at:
        hours = embargo.report.project.policy.disclosure.distributor_final_notice_hours
        due_final_notices.using(run_after=embargo.ends_at - dt.timedelta(hours=hours)).enqueue()


def on_advisory_published(advisory: Advisory, _revision: AdvisoryRevision) -> None:
    """Registered on publication: the organisations that were told hear it is public."""
    if advisory.report_id is None:
        return
    with transaction.atomic():
        for share in _live_shares(advisory.report_id):
            send_notice(share, Stage.PUBLISHED, advisory=advisory.identifier)


@task()
def due_final_notices() -> str:
    return f"{send_due_final_notices()} final notices"


def send_due_final_notices(now: dt.datetime | None = None) -> int:
    """The final notice of every share whose embargo ends within the policy's hours (once per end)."""
    moment = now or timezone.now()
    sent = 0
    candidates = CaseShare.objects.filter(
        organisation__state=OrganisationState.APPROVED,
        report__embargo__state__in=[EMState.ACTIVE, EMState.REVISE],
        report__embargo__ends_at__gt=moment,
    ).values_list("pk", flat=True)
    for pk in candidates:
        with transaction.atomic():
            share = (
                CaseShare.objects.select_for_update()
                .select_related("report__project", "organisation")
                .get(pk=pk)
            )
            ends_at = share.report.embargo.ends_at
            hours = share.report.project.policy.disclosure.distributor_final_notice_hours
            if ends_at is None or share.final_notice_for_end == ends_at:
                continue
            if ends_at - moment <= dt.timedelta(hours=hours):
                send_notice(share, Stage.FINAL)
                sent += 1
    return sent
