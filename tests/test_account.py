"""A person's own account: recovery codes, password and API tokens, each behind a recent sign-in."""

from __future__ import annotations

import re
import time

from django.test import Client

from vulndesk.accounts import lockout, mfa
from vulndesk.accounts.actions import do_unlock, do_verify_second_factor
from vulndesk.accounts.models import ApiToken, RecoveryCode, User
from vulndesk.accounts.views import SECOND_FACTOR_AT
from vulndesk.audit.models import AuditEvent

from .conftest import PASSWORD, sign_in_for_real, signed_in

NEW_PASSWORD = "a much longer passphrase now"
CODE = re.compile(r"<code>([0-9a-f]{10}-[0-9a-f]{10})</code>")


def _signed_in_long_ago(client: Client) -> None:
    session = client.session
    session[SECOND_FACTOR_AT] = int(time.time()) - 3600
    session.save()


def test_new_recovery_codes_replace_the_old_ones_after_a_recent_sign_in(alice: User) -> None:
    team = Client()
    sign_in_for_real(team, alice.email, PASSWORD)
    page = team.get("/accounts/").content.decode()
    assert "<strong>10</strong> of 10 recovery codes left" in page
    before = set(RecoveryCode.objects.filter(user=alice).values_list("digest", flat=True))
    _signed_in_long_ago(team)
    response = team.post("/accounts/recovery-codes/")
    assert response["Location"].startswith("/accounts/confirm/")  # a recent sign-in first
    session = team.session
    session[SECOND_FACTOR_AT] = int(time.time())
    session.save()
    codes = CODE.findall(team.post("/accounts/recovery-codes/").content.decode())
    assert len(codes) == 10
    assert AuditEvent.objects.filter(action="user.recovery_codes_renewed", target_id=str(alice.pk)).exists()
    assert mfa.recovery_codes_left(alice) == 10
    assert do_verify_second_factor(alice, codes[0], acting_user=alice)
    assert not do_verify_second_factor(alice, codes[0], acting_user=alice)  # once
    assert before.isdisjoint(RecoveryCode.objects.filter(user=alice).values_list("digest", flat=True))


def test_changing_the_password_keeps_this_session_and_ends_the_others(alice: User) -> None:
    here, elsewhere = Client(), Client()
    sign_in_for_real(here, alice.email, PASSWORD)
    sign_in_for_real(elsewhere, alice.email, PASSWORD)
    wrong = here.post(
        "/accounts/password/",
        {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    # Guesses at the old password count like sign-in failures.
    for _ in range(lockout.FAILURES_BEFORE_PAUSE - 1):
        here.post(
            "/accounts/password/", {"old_password": "guess", "new_password1": "x", "new_password2": "x"}
        )
    paused = here.post("/accounts/password/", {"old_password": PASSWORD}, follow=True)
    assert "try again in" in paused.content.decode()
    do_unlock(alice.email, acting_user=None)
    done = here.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert here.get("/accounts/").status_code == 200
    assert elsewhere.get("/accounts/").status_code == 302  # signed out
    event = AuditEvent.objects.get(action="user.password_changed", target_id=str(alice.pk))
    assert NEW_PASSWORD not in str(event.details)


def test_a_token_made_on_the_web_is_shown_once_scoped_and_revocable(alice: User, bob: User) -> None:
    team = signed_in(alice)
    page = team.get("/accounts/").content.decode()
    assert 'value="project:report:read"' in page
    assert 'value="instance:user:manage"' not in page  # a team member cannot grant what they lack
    refused = team.post(
        "/accounts/tokens/", {"name": "x", "scope": "instance:user:manage", "lifetime": "90"}, follow=True
    )
    assert "among those your role holds" in refused.content.decode()
    assert not ApiToken.objects.exists()
    made = team.post(
        "/accounts/tokens/", {"name": "release script", "scope": "project:report:read", "lifetime": "30"}
    )
    assert made.status_code == 302  # the token is shown on the page this leads to, once
    issued = team.get(made["Location"]).content.decode()
    raw = re.search(r'value="(vd_[^"]+)"', issued)
    assert raw is not None
    assert team.get(made["Location"]).status_code == 302  # a reload shows nothing, makes nothing
    assert ApiToken.objects.count() == 1
    token = ApiToken.objects.get()
    assert raw.group(1) not in token.digest
    assert token.scopes == ["project:report:read"]
    assert token.expires_at is not None
    assert 29 <= (token.expires_at - token.created_at).days <= 30
    api = Client(headers={"Authorization": f"Bearer {raw.group(1)}"})
    assert api.get("/api/v1/me").status_code == 200
    assert raw.group(1) not in team.get("/accounts/").content.decode()  # shown once only
    # Someone else cannot revoke it (404, not 403); its owner can, and it stops working at once.
    assert signed_in(bob).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert team.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked").exists()
