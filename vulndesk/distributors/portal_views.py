"""The distributor portal: a member's cases, the embargo policy to accept, vouches, and the case page.

A person only ever reaches the cases shared with their own organisation (``distributors/access.py``):
anything else answers 404. Every form is a plain POST that redirects (no JavaScript needed).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.distributors.access import (
    CaseAccess,
    access_applicant,
    access_member_on,
    access_share_for_member,
    access_shared_attachment,
    active_memberships,
    case_access,
)
from vulndesk.distributors.actions import DistributorError, membership
from vulndesk.distributors.actions.leaks import do_report_member_leak
from vulndesk.distributors.actions.sharing import (
    distributors_negotiate,
    do_accept_case_embargo,
    do_propose_disclosure_date,
    do_read_briefing,
    do_set_product_status,
)
from vulndesk.distributors.forms import choice, moment, optional_moment
from vulndesk.distributors.models import (
    CaseEmbargoAcceptance,
    CaseShare,
    DistributorMember,
    Justification,
    Organisation,
    OrganisationState,
    ProductState,
    needs_policy_acceptance,
)
from vulndesk.embargo.actions import EmbargoError
from vulndesk.embargo.models import ProposerKind
from vulndesk.embargo.views import embargo_context
from vulndesk.intake.attachments import attachment_download, record_download
from vulndesk.web.forms import flash_outcome


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    members = active_memberships(user)
    if not members:
        raise Http404
    rows = []
    for member in members:
        shares = CaseShare.objects.select_related("report__embargo").filter(organisation=member.organisation)
        rows.append(
            {
                "member": member,
                "project": member.organisation.project,
                "needs_policy": needs_policy_acceptance(member),
                "shares": [(share, str(case_access(share, member))) for share in shares],
                "applicants": Organisation.objects.filter(
                    project=member.organisation.project, state=OrganisationState.APPLIED
                ).exclude(vouches__member=member),
            }
        )
    return render(request, "distributors/portal.html", {"rows": rows})


@login_required
@require_POST
def accept_policy(request: HttpRequest, slug: str) -> HttpResponse:
    member = access_member_on(signed_in_user(request), slug)
    membership.do_accept_embargo_policy(member, acting_user=member.user)
    messages.success(request, f"You accepted version {member.embargo_policy_version} of the embargo policy.")
    return redirect("distributor-portal")


@login_required
@require_POST
def vouch(request: HttpRequest, slug: str, organisation_id: int) -> HttpResponse:
    member = access_member_on(signed_in_user(request), slug)
    applicant = access_applicant(member, organisation_id)
    flash_outcome(
        request,
        lambda: membership.do_vouch(
            applicant, member, request.POST.get("statement", ""), acting_user=member.user
        ),
        refused=DistributorError,
        not_done="Not vouched",
        done=f"You vouched for {applicant.name}; the security team was told.",
    )
    return redirect("distributor-portal")


@login_required
def case(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    share, member = access_share_for_member(user, slug, number)
    if needs_policy_acceptance(member):
        messages.error(request, "Accept the list's current embargo policy first.")
        return redirect("distributor-portal")
    access = case_access(share, member)
    context: dict[str, object] = {
        "share": share,
        "member": member,
        "project": share.report.project,
        "access": str(access),
        "accepted_before": CaseEmbargoAcceptance.objects.filter(share=share, member=member).exists(),
    }
    if access == CaseAccess.READ:
        context |= {
            "b": do_read_briefing(share, member, acting_user=user),
            "statuses": share.product_statuses.all(),
            "product_states": ProductState.choices,
            "justifications": Justification.choices,
            "may_propose": distributors_negotiate(share.report.project),
            "attachments": [row.attachment for row in share.shared_attachments.select_related("attachment")],
            **embargo_context(share.report, ProposerKind.DISTRIBUTOR),
        }
    else:
        context["embargo_end"] = getattr(getattr(share.report, "embargo", None), "ends_at", None)
        context["project_zone"] = share.report.project.policy.calendar.timezone
    return render(request, "distributors/case.html", context)


@login_required
@require_GET
def case_attachment(request: HttpRequest, slug: str, number: int, attachment: uuid.UUID) -> HttpResponse:
    """An attachment the team shared with this member's organisation, after the case's embargo was
    accepted; each download is an audit event like each read."""
    share, member = access_share_for_member(signed_in_user(request), slug, number)
    if needs_policy_acceptance(member):
        raise Http404
    found = access_shared_attachment(share, member, attachment)
    record_download(
        found,
        acting_user=member.user,
        action="distributors.attachment_downloaded",
        organisation=share.organisation.name,
    )
    return attachment_download(found)


@login_required
@require_POST
def case_act(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    share, member = access_share_for_member(user, slug, number)
    if needs_policy_acceptance(member):
        messages.error(request, "Accept the list's current embargo policy first.")
        return redirect("distributor-portal")
    flash_outcome(
        request,
        lambda: _member_act(share, member, request.POST),
        refused=(DistributorError, EmbargoError),
        not_done="Not done",
        done=str,
    )
    return redirect("distributor-case", slug, number)


def _member_act(share: CaseShare, member: DistributorMember, form: QueryDict) -> str:
    action = form.get("action", "")
    if action == "accept":
        do_accept_case_embargo(share, member, acting_user=member.user)
        return "You accepted this case's embargo."
    report = share.report
    if action == "status":
        status = choice(ProductState, form.get("status", ""))
        do_set_product_status(
            share,
            member,
            acting_user=member.user,
            product=form.get("product", ""),
            status=status,
            justification=form.get("justification", "") if status == ProductState.NOT_AFFECTED else "",
            note=form.get("note", ""),
        )
        return "Status saved; the security team sees it."
    if action == "propose":
        do_propose_disclosure_date(
            share,
            member,
            moment(form.get("ends_at", ""), form.get("zone", ""), report),
            note=form.get("note", ""),
            acting_user=member.user,
        )
        return "Proposed; the security team decides."
    if action == "leak":
        do_report_member_leak(
            share,
            member,
            what=form.get("what", ""),
            to_whom=form.get("to_whom", ""),
            happened_at=optional_moment(form.get("happened_at", ""), form.get("zone", ""), report),
            acting_user=member.user,
        )
        return "Leak reported; the security team was alerted. Thank you for telling us at once."
    raise DistributorError("unknown action")
