"""Signing in with a password and a second factor, setting the second factor up, and confirming
it is still you before a sensitive action.

Between the password and the second factor the session holds only the pending account's id and the
time; ``login()`` runs once both are checked, and stamps the session with the second factor's time,
which ``SecondFactorMiddleware`` requires of every signed-in request.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from vulndesk.accounts import lockout, mfa
from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.actions import do_confirm_mfa_enrollment, do_verify_second_factor
from vulndesk.accounts.models import User
from vulndesk.web.client import client_address
from vulndesk.web.sealed_session import keep_sealed, read_sealed

PENDING_USER, PENDING_AT, NEXT = "login_pending_user", "login_pending_at", "login_next"
SECOND_FACTOR_AT = "second_factor_at"
SETUP_SECRET = "totp_setup_secret"  # noqa: S105 - a session key; holds the sealed secret shown
PENDING_FOR = 10 * 60  # seconds between the password and the second factor
RECENT_FOR = 15 * 60  # seconds a sign-in counts as recent for sensitive actions
WRONG = "Wrong email or password."
RECOVERY_CODES_LOW = 3  # at or below this many unused recovery codes, a sign-in says so


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("desk")


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
def sign_in(request: HttpRequest) -> HttpResponse:
    error = ""
    email = request.POST.get("username", "").strip()
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST":
        address = client_address(request)
        try:
            lockout.begin_attempt(email, address)
            user = authenticate(request, username=email, password=request.POST.get("password", ""))
            if not isinstance(user, User):
                lockout.record_failure(email, address)
                error = WRONG
            else:
                lockout.password_accepted(email, address)
                request.session.cycle_key()
                request.session[PENDING_USER], request.session[PENDING_AT] = user.pk, int(time.time())
                request.session[NEXT] = _safe_next(request, next_url)
                return redirect("login-verify" if mfa.has_second_factor(user) else "login-setup")
        except lockout.LockedOutError as exc:
            error = f"Not signed in: {exc}."
    return render(
        request,
        "web/login.html",
        {"error": error, "email": email, "next": next_url},
        status=200 if not error else 400,
    )


def _pending(request: HttpRequest) -> User | None:
    pk, at = request.session.get(PENDING_USER), request.session.get(PENDING_AT, 0)
    if pk is None or time.time() - float(at) > PENDING_FOR:
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def _complete(request: HttpRequest, user: User) -> HttpResponse:
    next_url = request.session.get(NEXT) or reverse("desk")
    for key in (PENDING_USER, PENDING_AT, NEXT, SETUP_SECRET):
        request.session.pop(key, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SECOND_FACTOR_AT] = int(time.time())
    lockout.record_success(user.email, client_address(request))
    left = mfa.recovery_codes_left(user)
    if mfa.has_second_factor(user) and left <= RECOVERY_CODES_LOW:
        messages.warning(
            request,
            f"You have {left} recovery code{pluralize(left)} left: make new ones on your account page.",
        )
    return redirect(next_url)


@never_cache
@csrf_protect
def verify(request: HttpRequest) -> HttpResponse:
    user = _pending(request)
    if user is None:
        messages.error(request, "Sign in again: the first step expired.")
        return redirect("login")
    error = ""
    if request.method == "POST":
        address = client_address(request)
        try:
            # After a right password: these failures, and only these, can lock the account for good.
            lockout.begin_attempt(user.email, address, code=True)
            if do_verify_second_factor(user, request.POST.get("code", ""), acting_user=user):
                return _complete(request, user)
            lockout.record_failure(user.email, address, code=True)
            error = "That code is not right (or was already used). Try the current one."
        except lockout.LockedOutError as exc:
            error = f"Not signed in: {exc}."
    return render(request, "accounts/verify.html", {"error": error}, status=400 if error else 200)


@never_cache
@csrf_protect
def setup(request: HttpRequest) -> HttpResponse:
    """The last step of a first sign-in: every account has a second factor before any page opens."""
    user = _pending(request)
    if user is None or mfa.has_second_factor(user):
        return redirect("login")
    secret = mfa.pending_secret(user, read_sealed(request, SETUP_SECRET, user_id=user.pk))
    keep_sealed(request, SETUP_SECRET, secret, user_id=user.pk)
    error = ""
    if request.method == "POST":
        codes = do_confirm_mfa_enrollment(user, request.POST.get("code", ""), secret, acting_user=user)
        if codes is not None:
            response = _complete(request, user)
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": response["Location"]}
            )
        error = "That code does not match. Check the clock of your device and try the current code."
    # segno draws the URI as path geometry: no text of it reaches the markup.
    qr = mark_safe(mfa.qr_svg(user, secret))  # noqa: S308  # nosec B308, B703
    return render(
        request,
        "accounts/setup.html",
        {"secret": secret, "uri": mfa.provisioning_uri(user, secret), "qr": qr, "error": error},
        status=400 if error else 200,
    )


@login_required
@never_cache
@csrf_protect
@sensitive_post_parameters("password")
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Password and second factor again, before publishing, changing a policy and the like."""
    user = signed_in_user(request)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    error = ""
    if request.method == "POST":
        try:
            lockout.begin_attempt(user.email)
            password_ok = user.check_password(request.POST.get("password", ""))
            if password_ok and do_verify_second_factor(user, request.POST.get("code", ""), acting_user=user):
                request.session[SECOND_FACTOR_AT] = int(time.time())
                lockout.record_success(user.email)
                messages.success(request, "Confirmed. Now do it again: the action was not done yet.")
                return redirect(next_url)
            lockout.record_failure(user.email)
            error = "The password or the code is not right."
        except lockout.LockedOutError as exc:
            error = f"Not confirmed: {exc}."
    return render(
        request, "accounts/reauth.html", {"error": error, "next": next_url}, status=400 if error else 200
    )


def reauthentication_needed(request: HttpRequest, back: str) -> HttpResponse | None:
    """For a sensitive action, after the view's own access check (so that a stranger still gets
    404): a redirect to confirm it is you when the last second factor is older than RECENT_FOR."""
    at = float(request.session.get(SECOND_FACTOR_AT, 0))
    if time.time() - at <= RECENT_FOR:
        return None
    messages.info(request, "Confirm it is you before this action.")
    return redirect(reverse("reauthenticate") + "?" + urlencode({"next": back}))
