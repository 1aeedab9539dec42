"""The distributor's doors: a member reaches only the cases shared with their own organisation.

Anything else answers 404, whether it is missing or someone else's, so nobody can probe for an
embargoed case by number. What a member may do with a case they reach is ``case_access``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.http import Http404

from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.cases.vultron import EMState
from vulndesk.distributors.models import (
    CaseEmbargoAcceptance,
    CaseShare,
    DistributorMember,
    MemberState,
    Organisation,
    OrganisationState,
    SharedAttachment,
    needs_policy_acceptance,
)
from vulndesk.embargo.actions import active_embargo_end
from vulndesk.embargo.models import Embargo, ExitReason

if TYPE_CHECKING:
    import uuid

    from vulndesk.accounts.models import User
    from vulndesk.intake.models import ReportAttachment
    from vulndesk.projects.models import Project


def active_memberships(user: User) -> list[DistributorMember]:
    """The rows through which this person reads cases: active, on an organisation on the list."""
    return list(
        DistributorMember.objects.select_related("organisation__project").filter(
            user=user, state=MemberState.ACTIVE, organisation__state=OrganisationState.APPROVED
        )
    )


def access_member_on(user: User, slug: str) -> DistributorMember:
    """This person's active membership on the project's list; 404 if they have none."""
    for member in active_memberships(user):
        if member.organisation.project.slug == slug:
            return member
    raise Http404


def access_applicant(member: DistributorMember, organisation_id: int) -> Organisation:
    """An organisation applying to the member's list, for a vouch; 404 for anything else."""
    applicant = Organisation.objects.filter(
        pk=organisation_id, project=member.organisation.project, state=OrganisationState.APPLIED
    ).first()
    if applicant is None:
        raise Http404
    return applicant


def access_organisation_for_team(project: Project, organisation_id: int) -> Organisation:
    """An organisation of this project's list, for a team already let into the project."""
    organisation = Organisation.objects.filter(pk=organisation_id, project=project).first()
    if organisation is None:
        raise Http404
    return organisation


def access_share_for_member(user: User, slug: str, number: int) -> tuple[CaseShare, DistributorMember]:
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


def access_shared_attachment(share: CaseShare, member: DistributorMember, uid: uuid.UUID) -> ReportAttachment:
    """An attachment the team shared with this member's organisation on this case, once the member
    accepted the list's embargo policy and the case's embargo; 404 for anything else, like the case."""
    row = (
        SharedAttachment.objects.select_related("attachment").filter(share=share, attachment__uid=uid).first()
    )
    if row is None or needs_policy_acceptance(member) or case_access(share, member) != CaseAccess.READ:
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
