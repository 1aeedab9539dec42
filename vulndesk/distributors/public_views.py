"""Pages of the distributors list for people without a seat: the public application form, the
invitation link that sets a member's password, and the reporter's leak form on the tracking page.

Every form is a plain POST that redirects or re-renders (no JavaScript needed).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlsafe_base64_decode

from vulndesk.accounts.models import User
from vulndesk.distributors.actions import DistributorError, membership
from vulndesk.distributors.actions.leaks import do_report_leak
from vulndesk.distributors.actions.membership import Application
from vulndesk.distributors.models import (
    DistributorMember,
    ReportedBy,
)
from vulndesk.intake.access import access_report_by_tracking_token, tracking_form
from vulndesk.projects.models import Project
from vulndesk.web.client import client_address

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


# --- The reporter's leak form -----------------------------------------------------------------


@tracking_form()
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
