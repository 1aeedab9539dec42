"""The pages behind a mailed link: "forgot password", a reset link, and a team invitation."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from vulndesk.accounts.actions import AccountError
from vulndesk.accounts.actions.invitations import do_accept_invitation
from vulndesk.accounts.actions.password_reset import (
    TooManyResetRequests,
    do_request_password_reset,
    do_reset_password,
)
from vulndesk.accounts.links import access_link
from vulndesk.accounts.models import LinkPurpose, User
from vulndesk.accounts.views import NEXT, PENDING_AT, PENDING_USER
from vulndesk.web.client import client_address

SENT = (
    "If an account has that address, a link to choose a new password is on its way to it. "
    "The link works once, for an hour."
)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    email, sent, error = request.POST.get("email", "").strip(), False, ""
    if request.method == "POST":
        if not email or len(email) > 254:  # noqa: PLR2004 - RFC 5321's longest address
            error = "Enter the email address of your account."
        else:
            try:
                do_request_password_reset(email, address=client_address(request))
                sent = True
            except TooManyResetRequests:
                error = "Too many reset requests from your network. Try again in an hour."
    return render(
        request,
        "accounts/forgot_password.html",
        {"email": email, "sent": sent, "message": SENT, "error": error},
        status=429 if error.startswith("Too many") else 400 if error else 200,
    )


def _set_password_page(
    request: HttpRequest, template: str, form: SetPasswordForm[User] | None, **context: object
) -> HttpResponse:
    invalid = form is None
    return render(
        request,
        template,
        {"form": form, "invalid": invalid, **context},
        status=404 if invalid else 400 if form is not None and form.errors else 200,
    )


@never_cache
@csrf_protect
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest, token: str) -> HttpResponse:
    link = access_link(token, LinkPurpose.PASSWORD_RESET)
    if link is None:
        return _set_password_page(request, "accounts/reset_password.html", None)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_reset_password(link, form.cleaned_data["new_password1"])
        except ValueError:
            return _set_password_page(request, "accounts/reset_password.html", None)
        messages.success(request, "Password changed. Sign in with it and a code from your authenticator.")
        return redirect("login")
    return _set_password_page(request, "accounts/reset_password.html", form, email=link.user.email)


@never_cache
@csrf_protect
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    link = access_link(token, LinkPurpose.INVITATION)
    if link is None or link.project is None:
        return _set_password_page(request, "accounts/invitation.html", None)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = do_accept_invitation(link, form.cleaned_data["new_password1"])
        except AccountError:
            return _set_password_page(request, "accounts/invitation.html", None)
        # The password step of a sign-in is done: on to the authenticator enrollment.
        request.session.cycle_key()
        request.session[PENDING_USER], request.session[PENDING_AT] = user.pk, int(time.time())
        request.session[NEXT] = reverse("project-team", args=[link.project.slug])
        return redirect("login-setup")
    return _set_password_page(
        request, "accounts/invitation.html", form, email=link.user.email, project=link.project
    )
