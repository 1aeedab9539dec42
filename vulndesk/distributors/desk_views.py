"""The security team's pages of the distributors list: the list itself (applications, members,
decisions) and the report page's distributors section (sharing, attachments, leaks).

Every form is a plain POST that redirects (no JavaScript needed).
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.views import reauthentication_needed
from vulndesk.cases.decisions import case_form
from vulndesk.distributors.access import (
    access_organisation_for_team,
)
from vulndesk.distributors.actions import DistributorError, membership
from vulndesk.distributors.actions.leaks import do_attribute_leak, do_report_leak
from vulndesk.distributors.actions.sharing import (
    do_set_shared_attachments,
    do_share_case,
)
from vulndesk.distributors.forms import choice, optional_moment
from vulndesk.distributors.models import (
    CaseShare,
    Leak,
    MemberState,
    Organisation,
    OrganisationState,
    ReportedBy,
)
from vulndesk.intake.models import Report, ReportAttachment
from vulndesk.projects.access import access_project
from vulndesk.web.forms import flash_outcome


@login_required
def project_distributors(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_CASE_COORDINATE)
    organisations = (
        Organisation.objects.filter(project=project)
        .select_related("resembles")
        .prefetch_related("members__user", "vouches__member__organisation", "leaks")
        .order_by("state", "name")
    )
    return render(
        request,
        "distributors/desk.html",
        {
            "project": project,
            "rules": project.policy.distributors,
            "organisations": organisations,
            "member_states": MemberState,
        },
    )


@login_required
@require_POST
def organisation_act(request: HttpRequest, slug: str, organisation_id: int) -> HttpResponse:
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_CASE_COORDINATE)
    organisation = access_organisation_for_team(project, organisation_id)
    back = reverse("project-distributors", args=[slug]) + f"#org-{organisation.pk}"
    # Putting people on the list gives them embargoed material: a recent sign-in is required.
    reinstating = (
        request.POST.get("action") == "member_state" and request.POST.get("state") == MemberState.ACTIVE
    )
    if request.POST.get("action") in {"approve", "add_member", "reinvite"} or reinstating:
        confirm = reauthentication_needed(request, back)
        if confirm is not None:
            return confirm
    flash_outcome(
        request,
        lambda: _team_act(organisation, request.POST, user),
        refused=DistributorError,
        not_done="Not done",
        done=str,
    )
    return redirect(back)


def _team_act(organisation: Organisation, form: QueryDict, user: User) -> str:
    action = form.get("action", "")
    if action == "approve":
        membership.do_approve(organisation, acting_user=user)
        return f"{organisation.name} is on the list; its people were invited."
    if action == "decline":
        membership.do_decline(organisation, form.get("reason", ""), acting_user=user)
        return f"{organisation.name} was declined and told why."
    if action == "remove":
        membership.do_remove_organisation(organisation, form.get("reason", ""), acting_user=user)
        return f"{organisation.name} was removed from the list and told why."
    if action == "add_member":
        membership.do_add_member(
            organisation,
            email=form.get("email", ""),
            name=form.get("name", ""),
            public_key=form.get("public_key", ""),
            acting_user=user,
        )
        return "Added and invited (the invitation is encrypted to their key)."
    if action in {"member_state", "reinvite"}:
        member = organisation.members.filter(pk=form.get("member", "0") or "0").first()
        if member is None:
            raise DistributorError("no such member")
        if action == "reinvite":
            membership.do_reinvite(member, acting_user=user)
            return f"{member.user.email} was sent a new invitation (encrypted to their key)."
        membership.do_set_member_state(member, choice(MemberState, form.get("state", "")), acting_user=user)
        return f"{member.user.email} is now {member.get_state_display().lower()}."
    raise DistributorError("unknown action")


def distributors_context(report: Report) -> dict[str, object]:
    """The report page's section: who was told, who accepted, what they said, and leaks."""
    if not report.project.policy.distributors.enabled:
        return {"distributors_enabled": False}
    shares = list(
        CaseShare.objects.filter(report=report)
        .select_related("organisation")
        .prefetch_related("acceptances__member__user", "product_statuses", "shared_attachments")
    )
    told = {share.organisation_id for share in shares}
    on_list = Organisation.objects.filter(project=report.project, state=OrganisationState.APPROVED)
    return {
        "distributors_enabled": True,
        "shares": shares,
        "attachment_choices": _attachment_choices(report, shares),
        "untold": [o for o in on_list if o.pk not in told],
        "on_list": on_list,
        "leaks": Leak.objects.filter(report=report).select_related("organisation"),
        "min_notice_days": report.project.policy.disclosure.distributor_min_notice_days,
        "final_notice_hours": report.project.policy.disclosure.distributor_final_notice_hours,
    }


def _attachment_choices(
    report: Report, shares: list[CaseShare]
) -> list[tuple[CaseShare, list[tuple[ReportAttachment, bool]]]]:
    """Per organisation told, each attachment of the report and whether it may download it."""
    attachments = list(report.attachments.all())
    if not attachments:
        return []
    choices = []
    for share in shares:
        shared = {row.attachment_id for row in share.shared_attachments.all()}
        choices.append((share, [(attachment, attachment.pk in shared) for attachment in attachments]))
    return choices


@case_form(Permission.PROJECT_CASE_COORDINATE, anchor="distributors")
def report_distributors(request: HttpRequest, report: Report, user: User) -> HttpResponse | None:
    if request.POST.get("action") == "share":
        # Sharing sends the embargoed briefing outside the team: a recent sign-in is required.
        back = reverse("report-page", args=[report.project.slug, report.number]) + "#distributors"
        confirm = reauthentication_needed(request, back)
        if confirm is not None:
            return confirm
    flash_outcome(
        request,
        lambda: _report_act(report, request.POST, user),
        refused=DistributorError,
        not_done="Not done",
        done=str,
    )
    return None


def _report_act(report: Report, form: QueryDict, user: User) -> str:
    action = form.get("action", "")
    listed = Organisation.objects.filter(project=report.project)
    if action == "share":
        chosen = list(listed.filter(pk__in=[v for v in form.getlist("organisation") if v.isdigit()]))
        shares = do_share_case(report, chosen, form.get("summary", ""), acting_user=user)
        return f"Shared with {len(shares)} organisation(s); their members were sent an encrypted notice."
    organisation = (
        listed.filter(pk=form.get("organisation", "0") or "0").first() if form.get("organisation") else None
    )
    if action == "attachments":
        return _share_attachments(report, organisation, form, user)
    if action == "leak":
        do_report_leak(
            report,
            what=form.get("what", ""),
            to_whom=form.get("to_whom", ""),
            happened_at=optional_moment(form.get("happened_at", ""), form.get("zone", ""), report),
            reported_by_kind=ReportedBy.TEAM,
            acting_user=user,
            organisation=organisation,
        )
        return "Leak recorded."
    if action == "attribute":
        leak = Leak.objects.filter(report=report, pk=form.get("leak", "0") or "0").first()
        if leak is None or organisation is None:
            raise DistributorError("choose the leak and the organisation it came from")
        do_attribute_leak(leak, organisation, acting_user=user)
        return f"The leak counts against {organisation.name}."
    raise DistributorError("unknown action")


def _share_attachments(report: Report, organisation: Organisation | None, form: QueryDict, user: User) -> str:
    share = CaseShare.objects.filter(report=report, organisation=organisation).first()
    if organisation is None or share is None:
        raise DistributorError("share the case with the organisation first")
    chosen = list(ReportAttachment.objects.filter(report=report, uid__in=_uids(form.getlist("attachment"))))
    do_set_shared_attachments(share, chosen, acting_user=user)
    return f"{organisation.name} can download {len(chosen)} of the report's attachments."


def _uids(values: list[str]) -> list[uuid.UUID]:
    uids = []
    for value in values:
        try:
            uids.append(uuid.UUID(value))
        except ValueError:
            continue  # not an attachment of this report, like any other unknown id
    return uids
