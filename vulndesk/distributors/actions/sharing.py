"""Early disclosure: the team shares a case with chosen organisations on the list.

A share needs an agreed disclosure moment at least ``distributor_min_notice_days`` away, so the
first notice really is early; the final notice follows ``distributor_final_notice_hours`` before
the end (``notices.send_due_final_notices``). Members read the case in the portal only after
accepting its embargo, and each read is an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.distributors import emails, notices
from vulndesk.distributors.access import CaseAccess, case_access, has_accepted
from vulndesk.distributors.actions import DistributorError, PolicyNotAcceptedError
from vulndesk.distributors.briefing import Briefing, briefing
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
from vulndesk.embargo.actions import active_embargo_end, do_propose_embargo
from vulndesk.embargo.emails import when
from vulndesk.embargo.models import EmbargoProposal, ProposerKind
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report, ReportAttachment
    from vulndesk.projects.models import Project

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


def check_acting_for(member: DistributorMember, acting_user: User) -> None:
    """A member acts on a case for themselves only: the audit log names who accepted and read."""
    if member.user_id != acting_user.pk:
        raise DistributorError("only the member themselves can do this")


def check_bound_by_policy(member: DistributorMember) -> None:
    """A member acts on cases only under the list's current embargo policy: after its version
    changes, they accept the new text in the portal before anything else."""
    if needs_policy_acceptance(member):
        raise PolicyNotAcceptedError("accept the list's current embargo policy first")


def check_member_may_act(share: CaseShare, member: DistributorMember) -> None:
    """Statuses, proposals and leaks come from a member bound by the case's embargo as it stands."""
    check_bound_by_policy(member)
    access = case_access(share, member)
    if access == CaseAccess.ENDED:
        raise DistributorError("the security team ended this case's embargo: it is no longer shared")
    if access != CaseAccess.READ:
        raise DistributorError("accept this case's embargo as it stands first")


def distributors_negotiate(project: Project) -> bool:
    """Whether the policy lets distributors propose disclosure dates (``disclosure.negotiated_with``)."""
    return "distributors" in project.policy.disclosure.negotiated_with


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


def do_accept_case_embargo(
    share: CaseShare, member: DistributorMember, *, acting_user: User
) -> CaseEmbargoAcceptance:
    """The member accepts the embargo as it stands now (its current end), again after a change."""
    check_acting_for(member, acting_user)
    check_bound_by_policy(member)
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
            acting_user=acting_user,
            project=share.report.project,
            target=share.report,
            details={
                "organisation": share.organisation.name,
                "embargo_ends_at": end.isoformat() if end else None,
            },
        )
    return acceptance


def do_read_briefing(share: CaseShare, member: DistributorMember, *, acting_user: User) -> Briefing:
    """Every read of an embargoed case by a distributor is an audit event."""
    check_acting_for(member, acting_user)
    check_bound_by_policy(member)
    if not has_accepted(share, member):
        raise DistributorError("accept this case's embargo as it stands to read it")
    with transaction.atomic():
        record_event(
            "distributors.case_read",
            acting_user=acting_user,
            project=share.report.project,
            target=share.report,
            details={"organisation": share.organisation.name},
        )
    return briefing(share)


def do_set_product_status(
    share: CaseShare,
    member: DistributorMember,
    *,
    acting_user: User,
    product: str,
    status: ProductState,
    justification: str = "",
    note: str = "",
) -> ProductStatus:
    """A distributor's word on one of its products, in VEX terms."""
    check_acting_for(member, acting_user)
    name = product.strip()
    if not name or len(name) > MAX_PRODUCT:
        raise DistributorError("name the product (at most 200 characters)")
    if status == ProductState.NOT_AFFECTED:
        if justification not in Justification.values:
            raise DistributorError("'not affected' needs one of the five VEX justifications")
    elif justification:
        raise DistributorError("a justification only goes with 'not affected'")
    check_member_may_act(share, member)
    with transaction.atomic():
        row, _ = ProductStatus.objects.update_or_create(
            share=share,
            product=name,
            defaults={
                "status": status,
                "justification": justification,
                "note": note.strip()[:500],
                "updated_by": acting_user,
                "updated_at": timezone.now(),
            },
        )
        record_event(
            "distributors.product_status",
            acting_user=acting_user,
            project=share.report.project,
            target=share.report,
            details={"organisation": share.organisation.name, "status": str(status)},
        )
    return row


def do_propose_disclosure_date(
    share: CaseShare, member: DistributorMember, ends_at: dt.datetime, *, note: str, acting_user: User
) -> EmbargoProposal:
    """A member proposes when the case's embargo ends, if the policy negotiates with distributors;
    the security team decides (``embargo.actions.do_accept_proposal``)."""
    check_acting_for(member, acting_user)
    check_member_may_act(share, member)
    report = share.report
    if not distributors_negotiate(report.project):
        raise DistributorError("this project negotiates disclosure dates without its distributors")
    return do_propose_embargo(
        report,
        ends_at,
        proposer_kind=ProposerKind.DISTRIBUTOR,
        acting_user=acting_user,
        note=f"{member.organisation.name}: {note}".strip(": "),
    )
