"""Early disclosure: the team shares a case with chosen organisations on the list.

A share needs an agreed disclosure moment at least ``distributor_min_notice_days`` away, so the
first notice really is early; the final notice follows ``distributor_final_notice_hours`` before
the end (``notices.send_due_final_notices``). Members read the case in the portal only after
accepting its embargo, and each read is an audit event.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.audit.actions import record_event
from vulndesk.cases.vultron import EMState
from vulndesk.distributors import emails, notices
from vulndesk.distributors.briefing import Briefing, briefing
from vulndesk.distributors.membership import DistributorError, active_memberships
from vulndesk.distributors.models import (
    CaseEmbargoAcceptance,
    CaseShare,
    DistributorMember,
    Justification,
    Organisation,
    OrganisationState,
    ProductState,
    ProductStatus,
    SharedAttachment,
    needs_policy_acceptance,
)
from vulndesk.embargo.actions import active_embargo_end
from vulndesk.embargo.emails import when
from vulndesk.embargo.models import Embargo, ExitReason
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    import uuid

    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report, ReportAttachment

MAX_SUMMARY = 10_000
MAX_PRODUCT = 200


def check_notice_period(report: Report, ends_at: dt.datetime | None, now: dt.datetime) -> None:
    """Distributors are told at least the policy's minimum days before disclosure."""
    if ends_at is None:
        raise DistributorError("agree a disclosure date first: the notice tells distributors when it is")
    days = report.project.policy.disclosure.distributor_min_notice_days
    if ends_at - now < dt.timedelta(days=days):
        earliest = when(now + dt.timedelta(days=days), report.project.policy.calendar.timezone)
        raise DistributorError(
            f"the policy gives distributors at least {days} days of notice, and the embargo ends sooner; "
            f"move its end to {earliest} or later first"
        )


def do_share_case(
    report: Report, organisations: list[Organisation], summary: str, *, acting_user: User
) -> list[CaseShare]:
    """Tell these organisations now: a notice to each member, encrypted to their key."""
    text = summary.strip()
    if not text or len(text) > MAX_SUMMARY:
        raise DistributorError(f"write the summary distributors get (1 to {MAX_SUMMARY} characters)")
    if not organisations:
        raise DistributorError("choose at least one organisation on the list")
    now = timezone.now()
    check_notice_period(report, active_embargo_end(report), now)
    shares = []
    with transaction.atomic():
        for organisation in organisations:
            if (
                organisation.project_id != report.project_id
                or organisation.state != OrganisationState.APPROVED
            ):
                raise DistributorError(f"{organisation.name} is not on this project's distributors list")
            if CaseShare.objects.filter(report=report, organisation=organisation).exists():
                continue
            share = CaseShare(report=report, organisation=organisation, shared_by=acting_user, shared_at=now)
            share.summary = text
            share.save()
            record_event(
                "distributors.case_shared",
                acting_user=acting_user,
                project=report.project,
                target=report,
                details={"organisation": organisation.name},
            )
            notices.send_notice(share, notices.Stage.FIRST)
            shares.append(share)
        if shares and report.reporter.get("email"):
            ends = when(active_embargo_end(report), report.project.policy.calendar.timezone)
            queue_email(
                emails.told_reporter(report, len(shares), ends), project=report.project, report=report
            )
    return shares


def share_for_member(user: User, slug: str, number: int) -> tuple[CaseShare, DistributorMember]:
    """The case as this person's organisation received it; 404 for anything else, never 403."""
    for member in active_memberships(user):
        if member.organisation.project.slug != slug:
            continue
        share = (
            CaseShare.objects.select_related("report__project", "organisation")
            .filter(organisation=member.organisation, report__number=number, report__project__slug=slug)
            .first()
        )
        if share is not None:
            return share, member
    raise Http404


def do_set_shared_attachments(
    share: CaseShare, attachments: list[ReportAttachment], *, acting_user: User
) -> list[ReportAttachment]:
    """Exactly these attachments of the case are the organisation's to download from now on.

    A choice per case and per organisation: a proof of concept may help one distributor test its
    build and be more than another needs. Withdrawn ones stop downloading at once.
    """
    if any(attachment.report_id != share.report_id for attachment in attachments):
        raise DistributorError("an attachment of another report cannot be shared on this case")
    chosen = {attachment.pk: attachment for attachment in attachments}
    with transaction.atomic():
        current = {row.attachment_id: row for row in SharedAttachment.objects.filter(share=share)}
        added = [a for pk, a in chosen.items() if pk not in current]
        withdrawn = [row for pk, row in current.items() if pk not in chosen]
        SharedAttachment.objects.bulk_create(
            SharedAttachment(share=share, attachment=a, shared_by=acting_user) for a in added
        )
        SharedAttachment.objects.filter(pk__in=[row.pk for row in withdrawn]).delete()
        if added or withdrawn:
            record_event(
                "distributors.attachments_shared",
                acting_user=acting_user,
                project=share.report.project,
                target=share.report,
                details={
                    "organisation": share.organisation.name,
                    "shared": [str(a.uid) for a in added],
                    "withdrawn": [str(row.attachment.uid) for row in withdrawn],
                },
            )
    return list(chosen.values())


def access_shared_attachment(share: CaseShare, member: DistributorMember, uid: uuid.UUID) -> ReportAttachment:
    """An attachment the team shared with this member's organisation on this case, once the member
    accepted the case's embargo; 404 for anything else, like the case itself."""
    row = (
        SharedAttachment.objects.select_related("attachment").filter(share=share, attachment__uid=uid).first()
    )
    if row is None or case_access(share, member) != CaseAccess.READ:
        raise Http404
    attachment = row.attachment
    attachment.report = share.report
    return attachment


class CaseAccess(StrEnum):
    """What a member of an organisation the case was shared with may do with it now."""

    READ = "read"  # bound by the embargo as it stands: reads the briefing, saves statuses
    TO_ACCEPT = "accept"  # never accepted, or accepted an end that has since moved
    ENDED = "ended"  # the team ended the embargo without publishing: the case is not shared any more


def case_access(share: CaseShare, member: DistributorMember) -> CaseAccess:
    """Access follows what the member accepted: the embargo's current end while it is active.
    An extension (or any move of the end) asks for acceptance again; an embargo the team
    abandoned with nothing published ends access, since the terms it was shared under are gone."""
    embargo = Embargo.objects.filter(report=share.report).first()
    if embargo is not None and _abandoned_unpublished(embargo):
        return CaseAccess.ENDED
    acceptance = CaseEmbargoAcceptance.objects.filter(share=share, member=member).first()
    if acceptance is None:
        return CaseAccess.TO_ACCEPT
    current_end = active_embargo_end(share.report)
    if current_end is not None and acceptance.embargo_ends_at != current_end:
        return CaseAccess.TO_ACCEPT
    return CaseAccess.READ


def _abandoned_unpublished(embargo: Embargo) -> bool:
    if embargo.state != EMState.EXITED or embargo.exit_reason != ExitReason.ABANDONED:
        return False
    return not Advisory.objects.filter(report_id=embargo.report_id, state=AdvisoryState.PUBLISHED).exists()


def has_accepted(share: CaseShare, member: DistributorMember) -> bool:
    return case_access(share, member) == CaseAccess.READ


def do_accept_case_embargo(share: CaseShare, member: DistributorMember) -> CaseEmbargoAcceptance:
    """The member accepts the embargo as it stands now (its current end), again after a change."""
    if needs_policy_acceptance(member):
        raise DistributorError("accept the list's current embargo policy first")
    with transaction.atomic():
        access = case_access(share, member)
        if access == CaseAccess.ENDED:
            raise DistributorError("the security team ended this case's embargo: it is no longer shared")
        if access == CaseAccess.READ:
            return CaseEmbargoAcceptance.objects.get(share=share, member=member)
        end = active_embargo_end(share.report)
        acceptance, _ = CaseEmbargoAcceptance.objects.update_or_create(
            share=share, member=member, defaults={"embargo_ends_at": end, "accepted_at": timezone.now()}
        )
        record_event(
            "distributors.case_embargo_accepted",
            acting_user=member.user,
            project=share.report.project,
            target=share.report,
            details={
                "organisation": share.organisation.name,
                "embargo_ends_at": end.isoformat() if end else None,
            },
        )
    return acceptance


def read_briefing(share: CaseShare, member: DistributorMember) -> Briefing:
    """Every read of an embargoed case by a distributor is an audit event."""
    if not has_accepted(share, member):
        raise DistributorError("accept this case's embargo as it stands to read it")
    with transaction.atomic():
        record_event(
            "distributors.case_read",
            acting_user=member.user,
            project=share.report.project,
            target=share.report,
            details={"organisation": share.organisation.name},
        )
    return briefing(share)


def do_set_product_status(
    share: CaseShare,
    member: DistributorMember,
    *,
    product: str,
    status: ProductState,
    justification: str = "",
    note: str = "",
) -> ProductStatus:
    """A distributor's word on one of its products, in VEX terms."""
    name = product.strip()
    if not name or len(name) > MAX_PRODUCT:
        raise DistributorError("name the product (at most 200 characters)")
    if status == ProductState.NOT_AFFECTED:
        if justification not in Justification.values:
            raise DistributorError("'not affected' needs one of the five VEX justifications")
    elif justification:
        raise DistributorError("a justification only goes with 'not affected'")
    if not has_accepted(share, member):
        raise DistributorError("accept this case's embargo first")
    with transaction.atomic():
        row, _ = ProductStatus.objects.update_or_create(
            share=share,
            product=name,
            defaults={
                "status": status,
                "justification": justification,
                "note": note.strip()[:500],
                "updated_by": member.user,
                "updated_at": timezone.now(),
            },
        )
        record_event(
            "distributors.product_status",
            acting_user=member.user,
            project=share.report.project,
            target=share.report,
            details={"organisation": share.organisation.name, "status": str(status)},
        )
    return row
