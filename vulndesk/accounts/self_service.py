"""A person's own account: password, second factor and recovery codes, API tokens.

Every change here is a sensitive action: it needs a sign-in with a second factor from the last
minutes (``reauthentication_needed``), and each is an audit event.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from vulndesk.accounts import lockout, mfa
from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.actions import (
    AccountError,
    do_change_password,
    do_create_api_token,
    do_renew_recovery_codes,
    do_revoke_api_token,
    token_scopes_for,
)
from vulndesk.accounts.models import User
from vulndesk.accounts.notice_choices import NoticeChoices
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.views import reauthentication_needed
from vulndesk.notify.digest import DIGEST_HOUR
from vulndesk.web.sealed_session import keep_sealed, read_sealed

NEW_TOKEN = "new_api_token"  # noqa: S105 - a session key; holds the sealed token until shown once
TOKEN_LIFETIMES = {"30": 30, "90": 90, "365": 365}  # days; a token made on the web always expires
MAX_TOKEN_NAME = 100


def _page(
    request: HttpRequest,
    user: User,
    password_form: PasswordChangeForm | None = None,
    notices: NoticeChoices | None = None,
) -> HttpResponse:
    device = getattr(user, "totp_device", None)
    bad = (password_form is not None and bool(password_form.errors)) or (
        notices is not None and notices.error
    )
    return render(
        request,
        "accounts/account.html",
        {
            "account": user,
            "device": device if device is not None and device.confirmed_at else None,
            "codes_left": mfa.recovery_codes_left(user),
            "tokens": user.api_tokens.order_by("-created_at"),
            "scopes": token_scopes_for(user),
            "lifetimes": TOKEN_LIFETIMES,
            "password_form": password_form or PasswordChangeForm(user),
            "now": timezone.now(),
            "notices": notices or NoticeChoices.of(user),
            "digest_hour": DIGEST_HOUR,
        },
        status=400 if bad else 200,
    )


@login_required
@never_cache
def account(request: HttpRequest) -> HttpResponse:
    return _page(request, signed_in_user(request))


@login_required
@never_cache
@require_POST
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def change_password(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    confirm = reauthentication_needed(request, reverse("account") + "#password")
    if confirm is not None:
        return confirm
    # The old password is a password guess like any other: the sign-in's limits apply to it.
    try:
        lockout.begin_attempt(user.email)
    except lockout.LockedOutError as exc:
        messages.error(request, f"Not changed: {exc}.")
        return redirect(reverse("account") + "#password")
    form = PasswordChangeForm(user, request.POST)
    if not form.is_valid():
        if "old_password" in form.errors:
            lockout.record_failure(user.email)
        else:
            lockout.password_accepted(user.email)
        return _page(request, user, form)
    lockout.record_success(user.email)
    do_change_password(user, form.cleaned_data["new_password1"])
    update_session_auth_hash(request, user)  # this session stays signed in; every other one ends
    messages.success(
        request,
        "Your password was changed and your other sessions were signed out. "
        "API tokens keep working: revoke any you no longer trust below.",
    )
    return redirect("account")


@login_required
@never_cache
@require_POST
def renew_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    confirm = reauthentication_needed(request, reverse("account") + "#second-factor")
    if confirm is not None:
        return confirm
    try:
        codes = do_renew_recovery_codes(user, acting_user=user)
    except ValueError as exc:
        messages.error(request, f"Not done: {exc}.")
        return redirect("account")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("account")})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def create_token(request: HttpRequest) -> HttpResponse:
    """POST makes a token; the GET it redirects to shows it once (a reload makes no second one)."""
    user = signed_in_user(request)
    allowed = token_scopes_for(user)
    if not allowed:
        raise Http404  # distributor members have no API
    if request.method == "GET":
        return _show_new_token(request, user)
    confirm = reauthentication_needed(request, reverse("account") + "#tokens")
    if confirm is not None:
        return confirm
    try:
        name, scopes, days = _token_request(request, allowed)
        issued = do_create_api_token(
            user,
            name=name,
            scopes=scopes,
            expires_at=timezone.now() + dt.timedelta(days=days),
            acting_user=user,
        )
    except AccountError as exc:
        messages.error(request, f"No token made: {exc}.")
        return redirect(reverse("account") + "#tokens")
    keep_sealed(request, NEW_TOKEN, f"{issued.token.pk}:{issued.raw}", user_id=user.pk)
    return redirect("account-token-create")


def _show_new_token(request: HttpRequest, user: User) -> HttpResponse:
    pk, _, raw = read_sealed(request, NEW_TOKEN, user_id=user.pk, pop=True).partition(":")
    token = user.api_tokens.filter(pk=int(pk)).first() if pk.isdigit() else None
    if token is None:
        return redirect(reverse("account") + "#tokens")  # shown already, or never made
    return render(request, "accounts/token_issued.html", {"token": token, "raw": raw})


def _token_request(request: HttpRequest, allowed: list[Permission]) -> tuple[str, list[Permission], int]:
    """The name, scopes and lifetime asked for, checked: only scopes the person's role holds."""
    name = request.POST.get("name", "").strip()
    if not name or len(name) > MAX_TOKEN_NAME or any(not c.isprintable() for c in name):
        raise AccountError(f"give the token a name (1 to {MAX_TOKEN_NAME} printable characters)")
    days = TOKEN_LIFETIMES.get(request.POST.get("lifetime", ""))
    if days is None:
        raise AccountError("choose how long the token lasts")
    chosen = request.POST.getlist("scope")
    scopes = [p for p in allowed if str(p) in chosen]
    if not scopes or len(scopes) != len(set(chosen)):
        raise AccountError("choose at least one scope, among those your role holds")
    return name, scopes, days


@login_required
@never_cache
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    user = signed_in_user(request)
    token = user.api_tokens.filter(pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise Http404  # someone else's token, or one already revoked: the same answer
    do_revoke_api_token(token, acting_user=user)
    messages.success(request, f"Token {token.prefix}… ({token.name}) was revoked: it stops working at once.")
    return redirect(reverse("account") + "#tokens")


@login_required
@never_cache
@require_POST
def set_notices(request: HttpRequest) -> HttpResponse:
    """How the person hears of each kind of team notice, and the timezone of their digest."""
    user = signed_in_user(request)
    choices = NoticeChoices.from_post(user, request.POST)
    if choices.save(user):
        messages.success(request, "Your notice choices are saved.")
        return redirect(reverse("account") + "#notices")
    return _page(request, user, notices=choices)
