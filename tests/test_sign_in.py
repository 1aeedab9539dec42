"""Signing in: a password and a second factor for every account, recovery codes, throttling and
lockout with an audited unlock, and a fresh confirmation before sensitive actions."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts import lockout
from vulndesk.accounts.models import LoginThrottle, RecoveryCode, TotpDevice, User
from vulndesk.accounts.views import SECOND_FACTOR_AT
from vulndesk.audit.models import AuditEvent
from vulndesk.cli import main
from vulndesk.projects.models import Project

from . import totp
from .conftest import sign_in_for_real, signed_in

PASSWORD = "correct horse battery staple"


@pytest.fixture
def carol(project_a: Project) -> User:
    from vulndesk.accounts.actions import do_add_team_member  # noqa: PLC0415

    user = User.objects.create_user("carol@llm-d.test", PASSWORD)
    do_add_team_member(user, project_a, acting_user=None)
    return user


def _password_step(client: Client, email: str, password: str = PASSWORD) -> str:
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def test_a_first_sign_in_sets_up_the_authenticator_before_any_page_opens(client: Client, carol: User) -> None:
    assert _password_step(client, carol.email) == "/accounts/login/setup/"
    # Between the two steps nothing is open: the desk still asks to sign in.
    assert client.get("/desk/").status_code == 302
    page = client.get("/accounts/login/setup/").content.decode()
    totp.remember_from_page(carol.email, page)
    assert "otpauth://totp/vulndesk:carol%40llm-d.test" in page
    assert '<svg width="' in page  # the QR code, inline: no image request, no script
    wrong = client.post("/accounts/login/setup/", {"code": "000000"})
    assert wrong.status_code == 400
    done = client.post("/accounts/login/setup/", {"code": totp.code_for(carol.email)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{10}-[0-9a-f]{10})</code>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/desk/").status_code == 200
    assert RecoveryCode.objects.filter(user=carol).count() == 10
    assert not any(code.replace("-", "") in rc.digest for code in codes for rc in RecoveryCode.objects.all())
    assert AuditEvent.objects.filter(action="user.mfa_enrolled", target_id=str(carol.pk)).exists()

    # Later sign-ins ask for a code; a code works once; a recovery code works once.
    second = Client()
    assert _password_step(second, carol.email) == "/accounts/login/code/"
    code = totp.code_for(carol.email)
    assert second.post("/accounts/login/code/", {"code": code}).status_code == 302
    replay = Client()
    _password_step(replay, carol.email)
    assert replay.post("/accounts/login/code/", {"code": code}).status_code == 400
    assert replay.post("/accounts/login/code/", {"code": codes[0]}).status_code == 302
    again = Client()
    _password_step(again, carol.email)
    assert again.post("/accounts/login/code/", {"code": codes[0]}).status_code == 400
    assert AuditEvent.objects.filter(action="user.recovery_code_used").count() == 1


def test_a_session_without_a_second_factor_is_signed_out(client: Client, carol: User) -> None:
    client.force_login(carol)  # a session made by any other path than the sign-in
    assert client.get("/desk/").status_code == 302
    assert signed_in(carol).get("/desk/").status_code == 200


def test_repeated_failures_pause_an_account_name_and_say_so_alike_for_every_name(
    client: Client, carol: User
) -> None:
    for _ in range(lockout.FAILURES_BEFORE_PAUSE):
        client.post("/accounts/login/", {"username": carol.email, "password": "wrong"})
    # Paused: even the right password is refused for now, with the same words for any address.
    page = client.post("/accounts/login/", {"username": carol.email, "password": PASSWORD})
    assert "try again in 15 minutes" in page.content.decode()
    assert AuditEvent.objects.filter(action="user.paused", target_id=str(carol.pk)).count() == 1
    for _ in range(lockout.FAILURES_BEFORE_PAUSE):
        client.post("/accounts/login/", {"username": "nobody@nowhere.test", "password": "wrong"})
    nobody = client.post("/accounts/login/", {"username": "nobody@nowhere.test", "password": "x"})
    assert "try again in 15 minutes" in nobody.content.decode()  # no hint that the account is missing
    # Someone else's guessing from their own address does not hold Carol back at hers.
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert (
        elsewhere.post("/accounts/login/", {"username": carol.email, "password": PASSWORD}).status_code == 302
    )


def _guess(email: str, address: str, times: int, at: dt.datetime) -> None:
    for _ in range(times):
        lockout.begin_attempt(email, address, now=at)
        lockout.record_failure(email, address, now=at)


def _refusal(email: str, address: str, at: dt.datetime) -> str:
    with pytest.raises(lockout.LockedOutError) as refused:
        lockout.begin_attempt(email, address, now=at)
    return str(refused.value)


@pytest.mark.django_db
def test_pauses_grow_and_anonymous_failures_never_lock_an_account_for_good(carol: User) -> None:
    at = timezone.now()
    waits = []
    # One guesser at one address, waiting out each pause: each pause is twice the one before.
    for _ in range(8):
        _guess(carol.email, "203.0.113.5", lockout.FAILURES_BEFORE_PAUSE, at)
        waits.append(_refusal(carol.email, "203.0.113.5", at).rsplit("try again in ", 1)[1])
        at += lockout.LONGEST_PAUSE
    assert waits[:5] == ["15 minutes", "30 minutes", "60 minutes", "2 hours", "4 hours"]
    assert waits[-1] == "24 hours"  # and no longer
    # Forty failures, and the account is not locked: Carol signs in from her own address.
    assert not LoginThrottle.objects.filter(locked_for_good=True).exists()
    assert not AuditEvent.objects.filter(action="user.locked").exists()
    lockout.begin_attempt(carol.email, "192.0.2.7", now=at)


@pytest.mark.django_db
def test_guesses_spread_over_many_addresses_pause_the_name_for_an_hour_at_most(carol: User) -> None:
    at = timezone.now()
    for round_number in range(6):
        for number in range(lockout.NAME_FAILURES_BEFORE_PAUSE):
            _guess(carol.email, f"198.51.{round_number}.{number}", 1, at)
        refusal = _refusal(carol.email, "192.0.2.7", at)  # from anywhere, Carol's address too
        assert "for this account name" in refusal
        at += lockout.LONGEST_NAME_PAUSE
    assert refusal.endswith("try again in 60 minutes")
    lockout.begin_attempt(carol.email, "192.0.2.7", now=at + dt.timedelta(seconds=1))
    assert not LoginThrottle.objects.filter(locked_for_good=True).exists()


def test_wrong_codes_after_a_right_password_lock_the_account_until_an_admin_unlocks_it(
    client: Client, carol: User, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    # Someone who knows Carol's password has guessed codes, each time after waiting out the pause.
    codes = LoginThrottle.objects.filter(key=lockout._code_key(carol.email))
    _password_step(client, carol.email)
    client.post("/accounts/login/code/", {"code": "000000"})
    codes.update(failures=lockout.CODE_FAILURES_BEFORE_LOCK - 1, locked_until=None, last_failure_at=None)
    _password_step(client, carol.email)
    assert client.post("/accounts/login/code/", {"code": "000000"}).status_code == 400
    assert AuditEvent.objects.filter(action="user.locked", target_id=str(carol.pk)).count() == 1
    with pytest.raises(lockout.LockedOutError, match="an administrator can unlock it"):
        lockout.check_allowed(carol.email, now=None)
    page = Client().post("/accounts/login/", {"username": carol.email, "password": PASSWORD})
    assert "an administrator can unlock it" in page.content.decode()
    assert main(["user", "unlock", carol.email]) == 0
    assert "unlocked" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="user.unlocked", target_id=str(carol.pk)).exists()
    sign_in_for_real(Client(), carol.email, PASSWORD)


def test_wrong_codes_count_toward_the_lockout(client: Client, carol: User) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    _password_step(client, carol.email)
    for _ in range(lockout.FAILURES_BEFORE_PAUSE):
        client.post("/accounts/login/code/", {"code": "123456"})
    page = client.post("/accounts/login/code/", {"code": totp.code_for(carol.email)})
    assert "try again in" in page.content.decode()


def test_publishing_and_changing_a_policy_need_a_recent_confirmation(
    admin: User, alice: User, project_a: Project
) -> None:
    admin.set_password(PASSWORD)
    admin.save()
    team = Client()
    sign_in_for_real(team, admin.email, PASSWORD)
    session = team.session
    session[SECOND_FACTOR_AT] = int(time.time()) - 3600  # signed in an hour ago
    session.save()
    text = re.sub(
        r"acknowledge_working_days = \d+", "acknowledge_working_days = 1", project_a.policy.as_toml()
    )
    response = team.post("/desk/p/llm-d/policy/", {"policy": text})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/confirm/?next=")
    project_a.refresh_from_db()
    assert project_a.policy_version == 1
    confirm = team.post(
        response["Location"],
        {"password": PASSWORD, "code": totp.code_for(admin.email), "next": "/desk/p/llm-d/policy/"},
    )
    assert confirm.status_code == 302
    assert confirm["Location"] == "/desk/p/llm-d/policy/"
    assert team.post("/desk/p/llm-d/policy/", {"policy": text}).status_code == 302
    project_a.refresh_from_db()
    assert project_a.policy_version == 2
    # A stranger still gets 404, never the confirmation page.
    stranger = signed_in(alice)
    assert stranger.post("/desk/p/llm-d/policy/", {"policy": text}).status_code == 404


def test_an_operator_resets_a_lost_authenticator(carol: User) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    assert TotpDevice.objects.filter(user=carol).exists()
    assert main(["user", "reset-mfa", carol.email]) == 0
    assert not TotpDevice.objects.filter(user=carol).exists()
    assert AuditEvent.objects.filter(action="user.mfa_reset", target_id=str(carol.pk)).exists()
    assert _password_step(Client(), carol.email) == "/accounts/login/setup/"


def test_the_totp_secret_is_sealed(carol: User) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    device = TotpDevice.objects.get(user=carol)
    assert device.secret not in device.sealed_secret
    assert len(pyotp.TOTP(device.secret).now()) == 6


def test_one_address_trying_many_names_is_paused(client: Client, carol: User) -> None:
    for number in range(lockout.ADDRESS_FAILURES_BEFORE_PAUSE):
        client.post("/accounts/login/", {"username": f"guess{number}@llm-d.test", "password": "x"})
    page = client.post("/accounts/login/", {"username": carol.email, "password": PASSWORD})
    assert "too many failed sign-ins from your network" in page.content.decode()
    assert AuditEvent.objects.filter(action="user.address_paused").count() == 1
    # Carol, from her own address, is not held back by someone else's guessing.
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    response = elsewhere.post("/accounts/login/", {"username": carol.email, "password": PASSWORD})
    assert response.status_code == 302


def test_a_setup_secret_shown_in_another_session_is_never_the_one_confirmed(carol: User) -> None:
    # Someone who once had the password opened the setup page and noted the secret; Carol then
    # sets up her phone in her own session. The secret the other person saw is worthless.
    intruder, own = Client(), Client()
    _password_step(intruder, carol.email)
    seen = totp.SECRET_ON_PAGE.search(intruder.get("/accounts/login/setup/").content.decode())
    _password_step(own, carol.email)
    totp.remember_from_page(carol.email, own.get("/accounts/login/setup/").content.decode())
    assert seen is not None
    assert seen.group(1) != totp.secret_of(carol.email)
    assert own.post("/accounts/login/setup/", {"code": totp.code_for(carol.email)}).status_code == 200
    assert TotpDevice.objects.get(user=carol).secret == totp.secret_of(carol.email)
    # Codes from the secret the other session saw open nothing, there or at a later sign-in.
    noted = pyotp.TOTP(seen.group(1)).now()
    assert intruder.post("/accounts/login/setup/", {"code": noted}).status_code == 302
    assert _password_step(intruder, carol.email) == "/accounts/login/code/"
    assert intruder.post("/accounts/login/code/", {"code": noted}).status_code == 400


def test_digits_of_other_scripts_are_a_wrong_code_not_an_error(client: Client, carol: User) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    _password_step(client, carol.email)
    arabic_indic = "\u0661\u0662\u0663\u0664\u0665\u0666"  # str.isdigit() says yes to these
    response = client.post("/accounts/login/code/", {"code": arabic_indic})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()


def test_attempts_count_before_their_verdict_so_parallel_guesses_are_bounded(carol: User) -> None:
    # Five guesses in flight at once (none answered yet): the sixth is refused before it is checked.
    for _ in range(lockout.FAILURES_BEFORE_PAUSE):
        lockout.begin_attempt(carol.email)
    with pytest.raises(lockout.LockedOutError, match="try again in 15 minutes"):
        lockout.begin_attempt(carol.email)
    # A success forgets the attempts it was counted with.
    lockout.record_success(carol.email)
    lockout.begin_attempt(carol.email)


def test_a_right_password_is_not_counted_as_a_guess(client: Client, carol: User) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    for _ in range(lockout.FAILURES_BEFORE_PAUSE - 1):
        client.post("/accounts/login/", {"username": carol.email, "password": "typo"})
    # Four typos, then the right password: the second step is not refused as a fifth failure.
    _password_step(client, carol.email)
    assert client.post("/accounts/login/code/", {"code": totp.code_for(carol.email)}).status_code == 302
    # Nor do second steps walked away from pile up toward a lock.
    for _ in range(lockout.FAILURES_BEFORE_PAUSE + 1):
        _password_step(Client(), carol.email)
    lockout.check_allowed(carol.email)


@pytest.mark.django_db
def test_names_guessed_in_parallel_from_one_address_are_bounded_too() -> None:
    for number in range(lockout.ADDRESS_FAILURES_BEFORE_PAUSE):
        lockout.begin_attempt(f"guess{number}@llm-d.test", "198.51.100.9")
    with pytest.raises(lockout.LockedOutError, match="from your network"):
        lockout.begin_attempt("one-more@llm-d.test", "198.51.100.9")
    lockout.begin_attempt("one-more@llm-d.test", "198.51.100.10")  # another address is not held back


def test_a_sign_in_says_when_few_recovery_codes_are_left(carol: User) -> None:
    sign_in_for_real(Client(), carol.email, PASSWORD)
    unused = RecoveryCode.objects.filter(user=carol, used_at__isnull=True)
    spent = list(unused.values_list("pk", flat=True))[2:]
    RecoveryCode.objects.filter(pk__in=spent).update(used_at=timezone.now())
    client = Client()
    _password_step(client, carol.email)
    page = client.post("/accounts/login/code/", {"code": totp.code_for(carol.email)}, follow=True)
    assert "You have 2 recovery codes left" in page.content.decode()
