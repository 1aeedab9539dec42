"""Pages of the distributors list: the public application form, the portal, and the team's desk.

Every form is a plain POST that redirects (no JavaScript needed). A person only ever reaches the
cases shared with their own organisation: anything else answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.views import reauthentication_needed
from vulndesk.distributors.access import (
    CaseAccess,
    access_applicant,
    access_member_on,
    access_organisation_for_team,
    access_share_for_member,
    access_shared_attachment,
    active_memberships,
    case_access,
)
from vulndesk.distributors.actions import DistributorError, membership
from vulndesk.distributors.actions.leaks import do_attribute_leak, do_report_leak, do_report_member_leak
from vulndesk.distributors.actions.membership import Application
from vulndesk.distributors.actions.sharing import (
    distributors_negotiate,
    do_accept_case_embargo,
    do_propose_disclosure_date,
    do_read_briefing,
    do_set_product_status,
    do_set_shared_attachments,
    do_share_case,
)
from vulndesk.distributors.models import (
    CaseEmbargoAcceptance,
    CaseShare,
    DistributorMember,
    Justification,
    Leak,
    MemberState,
    Organisation,
    OrganisationState,
    ProductState,
    ReportedBy,
    needs_policy_acceptance,
)
from vulndesk.embargo.actions import EmbargoError
from vulndesk.embargo.models import ProposerKind
from vulndesk.embargo.views import embargo_context
from vulndesk.intake.access import access_report_by_tracking_token, access_report_for_team
from vulndesk.intake.attachments import attachment_download, record_download
from vulndesk.intake.models import Report, ReportAttachment
from vulndesk.projects.access import access_project
from vulndesk.projects.models import Project
from vulndesk.web.client import client_address

_Choice = TypeVar("_Choice", ProductState, MemberState)


# --- The public application form -------------------------------------------------------------


def apply(request: HttpRequest, slug: str) -> HttpResponse:
    project = Project.objects.filter(slug=slug).first()
    if project is None or not project.policy.distributors.enabled:
        raise Http404
    rules = project.policy.distributors
    problem = ""
    if request.method == "POST":
        form = request.POST
        application = Application(
            organisation=form.get("organisation", ""),
            website=form.get("website", "").strip(),
            name=form.get("name", ""),
            email=form.get("email", ""),
            public_key=form.get("public_key", ""),
            answers=[form.get(f"criterion-{i}", "") for i in range(len(rules.membership_criteria))],
            accepts_embargo_policy=form.get("accept") == "yes",
        )
        try:
            membership.do_apply(
                project, application, acting_user=None, client_address=client_address(request)
            )
        except DistributorError as exc:
            problem = str(exc)
        else:
            return render(request, "distributors/applied.html", {"project": project}, status=201)
    criteria = [
        (i, criterion, request.POST.get(f"criterion-{i}", ""))
        for i, criterion in enumerate(rules.membership_criteria)
    ]
    return render(
        request,
        "distributors/apply.html",
        {"project": project, "rules": rules, "criteria": criteria, "form": request.POST, "problem": problem},
        status=422 if problem else 200,
    )


# --- The invitation ------------------------------------------------------------------------------


def welcome(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Set a password with the one-time link of the invitation (a reset token: void once used)."""
    user = _invited_user(uidb64)
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "distributors/welcome.html", {"invalid": True}, status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership.do_set_member_password(form.cleaned_data["new_password1"], acting_user=user)
        messages.success(request, "Your password is set. Sign in to open the distributor portal.")
        return redirect(reverse("login") + "?next=" + reverse("distributor-portal"))
    return render(request, "distributors/welcome.html", {"form": form, "email": user.email})


def _invited_user(uidb64: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not DistributorMember.objects.filter(user=user).exists():
        return None  # the link sets passwords of distributor members only
    return user


# --- The portal ----------------------------------------------------------------------------------


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
    try:
        membership.do_vouch(applicant, member, request.POST.get("statement", ""), acting_user=member.user)
    except DistributorError as exc:
        messages.error(request, f"Not vouched: {exc}.")
    else:
        messages.success(request, f"You vouched for {applicant.name}; the security team was told.")
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
    try:
        done = _member_act(share, member, request.POST)
    except (DistributorError, EmbargoError) as exc:
        messages.error(request, f"Not done: {exc}.")
    else:
        messages.success(request, done)
    return redirect("distributor-case", slug, number)


def _member_act(share: CaseShare, member: DistributorMember, form: QueryDict) -> str:
    action = form.get("action", "")
    if action == "accept":
        do_accept_case_embargo(share, member, acting_user=member.user)
        return "You accepted this case's embargo."
    report = share.report
    if action == "status":
        status = _choice(ProductState, form.get("status", ""))
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
            _moment(form.get("ends_at", ""), form.get("zone", ""), report),
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
            happened_at=_optional_moment(form.get("happened_at", ""), form.get("zone", ""), report),
            acting_user=member.user,
        )
        return "Leak reported; the security team was alerted. Thank you for telling us at once."
    raise DistributorError("unknown action")


def _choice(kind: type[_Choice], value: str) -> _Choice:
    try:
        return kind(value)
    except ValueError:
        raise DistributorError(f"{value!r} is not one of {', '.join(kind.values)}") from None


def _moment(text: str, zone: str, report: Report) -> dt.datetime:
    """A datetime-local value, read in UTC or in the project's timezone as the form says."""
    tz = ZoneInfo(report.project.policy.calendar.timezone) if zone == "project" else dt.UTC
    try:
        return dt.datetime.fromisoformat(text.strip()).replace(tzinfo=tz).astimezone(dt.UTC)
    except ValueError:
        raise DistributorError(f"{text!r} is not a date and time") from None


def _optional_moment(text: str, zone: str, report: Report) -> dt.datetime | None:
    return _moment(text, zone, report) if text.strip() else None


# --- The reporter's leak form -----------------------------------------------------------------


@require_POST
def tracking_leak(request: HttpRequest, token: str) -> HttpResponse:
    report = access_report_by_tracking_token(token)
    try:
        do_report_leak(
            report,
            what=request.POST.get("what", ""),
            to_whom=request.POST.get("to_whom", ""),
            happened_at=None,
            reported_by_kind=ReportedBy.REPORTER,
            acting_user=None,
        )
    except DistributorError as exc:
        messages.error(request, f"Not reported: {exc}.")
    else:
        messages.success(request, "Thank you: the security team was alerted.")
    return redirect(reverse("tracking", args=[token]))


# --- The team's desk ----------------------------------------------------------------------------


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
    try:
        done = _team_act(organisation, request.POST, user)
    except DistributorError as exc:
        messages.error(request, f"Not done: {exc}.")
    else:
        messages.success(request, done)
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
        membership.do_set_member_state(member, _choice(MemberState, form.get("state", "")), acting_user=user)
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


@login_required
@require_POST
def report_distributors(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    if request.POST.get("action") == "share":
        # Sharing sends the embargoed briefing outside the team: a recent sign-in is required.
        confirm = reauthentication_needed(
            request, reverse("report-page", args=[slug, number]) + "#distributors"
        )
        if confirm is not None:
            return confirm
    try:
        done = _report_act(report, request.POST, user)
    except DistributorError as exc:
        messages.error(request, f"Not done: {exc}.")
    else:
        messages.success(request, done)
    return redirect(reverse("report-page", args=[slug, number]) + "#distributors")


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
            happened_at=_optional_moment(form.get("happened_at", ""), form.get("zone", ""), report),
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
