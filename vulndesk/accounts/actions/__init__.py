"""Every change to accounts, team memberships and API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.accounts import lockout, mfa
from vulndesk.accounts.models import (
    ApiToken,
    LoginThrottle,
    Membership,
    RecoveryCode,
    TotpDevice,
    User,
    token_digest,
)
from vulndesk.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from vulndesk.audit.actions import record_event

if TYPE_CHECKING:
    import datetime as dt

    from django.db.models import QuerySet

    from vulndesk.cases.models import Triage
    from vulndesk.projects.models import Project

TOKEN_PREFIX = "vd_"  # noqa: S105 - a public marker that lets secret scanners spot leaked tokens


class AccountError(ValueError):
    pass


def do_create_user(
    email: str,
    *,
    role: Role,
    acting_user: User | None,
    password: str | None = None,
    project: Project | None = None,
    display_name: str = "",
) -> User:
    """An admin, or a team member of ``project``. Distributor members come with their organisation."""
    if role not in {Role.ADMIN, Role.TEAM}:
        raise AccountError(f"role {role!s} cannot be created here: use admin or team")
    if role == Role.TEAM and project is None:
        raise AccountError("a team member needs a project")
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise AccountError(f"an account for {email} already exists")
        user = User.objects.create_user(
            email, password, is_admin=role == Role.ADMIN, display_name=display_name
        )
        record_event("user.created", acting_user=acting_user, target=user, details={"role": str(role)})
        if project is not None:
            _add_membership(user, project, acting_user=acting_user)
    return user


TEAM_ROLES = (Role.TEAM, Role.LEAD)


def do_add_team_member(
    user: User, project: Project, *, acting_user: User | None, role: Role = Role.TEAM
) -> Membership:
    with transaction.atomic():
        existing = Membership.objects.filter(user=user, project=project).first()
        return existing or _add_membership(user, project, acting_user=acting_user, role=role)


def _add_membership(
    user: User, project: Project, *, acting_user: User | None, role: Role = Role.TEAM
) -> Membership:
    if role not in TEAM_ROLES:
        raise AccountError(f"{role!s} is not a role on a project's team")
    membership = Membership.objects.create(user=user, project=project, role=role)
    record_event(
        "team.member_added",
        acting_user=acting_user,
        project=project,
        target=user,
        details={"role": str(role)},
    )
    return membership


def do_change_team_role(membership: Membership, role: Role, *, acting_user: User | None) -> Membership:
    if role not in TEAM_ROLES:
        raise AccountError(f"{role!s} is not a role on a project's team")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == role:
            return locked
        before, locked.role = locked.role, role
        locked.save(update_fields=["role"])
        record_event(
            "team.role_changed",
            acting_user=acting_user,
            project=locked.project,
            target=locked.user,
            details={"from": before, "to": str(role)},
        )
    return locked


def do_remove_team_member(user: User, project: Project, *, acting_user: User | None) -> None:
    """Off the team; the open cases they owned or were assigned to go back to the team."""
    with transaction.atomic():
        deleted, _ = Membership.objects.filter(user=user, project=project).delete()
        if not deleted:
            return
        # Through the cases' relations to the person: the cases domain builds on accounts.
        owned = _open_cases(user.owned_cases.all(), project).update(owner=None)
        assigned = list(_open_cases(user.assigned_cases.all(), project))
        for triage in assigned:
            triage.assignees.remove(user)
        record_event(
            "team.member_removed",
            acting_user=acting_user,
            project=project,
            target=user,
            details={"cases_unowned": owned, "cases_unassigned": len(assigned)},
        )


def _open_cases(cases: QuerySet[Triage], project: Project) -> QuerySet[Triage]:
    return cases.filter(report__project=project).exclude(report__rm_state="closed")


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


def do_create_api_token(
    user: User,
    *,
    acting_user: User | None,
    name: str = "cli",
    scopes: list[Permission] | None = None,
    expires_at: dt.datetime | None = None,
) -> IssuedToken:
    if expires_at is not None and expires_at <= timezone.now():
        raise AccountError("a token's expiry must be in the future")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:10],
            digest=token_digest(raw),
            scopes=[str(s) for s in scopes or []],
            expires_at=expires_at,
        )
        record_event(
            "token.created",
            acting_user=acting_user,
            target=token,
            details={"user": user.email, "scopes": [str(s) for s in scopes or []]},
        )
    return IssuedToken(token=token, raw=raw)


def do_revoke_api_token(token: ApiToken, *, acting_user: User | None) -> None:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event("token.revoked", acting_user=acting_user, target=token)


def do_change_password(user: User, password: str) -> None:
    """The person set a new password (validated by the caller's form); audited, no value logged."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event("user.password_changed", acting_user=user, target=user)


def token_scopes_for(user: User) -> list[Permission]:
    """The permissions a person can put on a token of their own: those their role holds."""
    if user.is_admin:
        return list(Permission)
    if user.memberships.exists():
        return sorted(ROLE_PERMISSIONS[Role.TEAM])
    return []


# --- the second factor (the mechanics are in accounts/mfa.py) ------------------------------------


def do_confirm_mfa_enrollment(user: User, code: str, secret: str, *, acting_user: User) -> list[str] | None:
    """The first code for this session's secret matched: the authenticator counts, and fresh
    recovery codes are returned once."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            return None
        if device is None:
            device = TotpDevice(user=user)
        device.secret, device.last_used_step = secret, 0
        if not mfa.accept_totp(device, code):
            return None
        device.confirmed_at = timezone.now()
        device.save()
        codes = mfa.new_recovery_codes(user)
        record_event("user.mfa_enrolled", acting_user=acting_user, target=user)
    return codes


def do_verify_second_factor(user: User, code: str, *, acting_user: User) -> bool:
    """A current TOTP code, used once; or an unused recovery code, which is then spent."""
    text = code.strip().replace(" ", "").replace("-", "")
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        if device is None:
            return False
        if mfa.accept_totp(device, text):
            device.save(update_fields=["last_used_step"])
            record_event("user.second_factor_verified", acting_user=acting_user, target=user)
            return True
        spent = RecoveryCode.objects.filter(
            user=user, digest=mfa.recovery_digest(text.lower()), used_at__isnull=True
        ).update(used_at=timezone.now())
        if spent:
            left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
            record_event(
                "user.recovery_code_used", acting_user=acting_user, target=user, details={"left": left}
            )
        return bool(spent)


def do_renew_recovery_codes(user: User, *, acting_user: User) -> list[str]:
    """Ten new codes; every earlier one stops working. Returned once, stored as keyed hashes."""
    if not mfa.has_second_factor(user):
        raise ValueError("set up an authenticator first")
    with transaction.atomic():
        codes = mfa.new_recovery_codes(user)
        record_event("user.recovery_codes_renewed", acting_user=acting_user, target=user)
    return codes


def do_reset_second_factor(user: User, *, acting_user: User | None) -> None:
    """For someone who lost the authenticator and every recovery code; they enroll again."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        record_event("user.mfa_reset", acting_user=acting_user, target=user)


def do_unlock(email: str, *, acting_user: User | None) -> bool:
    """Lift a lock, audited; whether there was one."""
    with transaction.atomic():
        deleted, _ = LoginThrottle.objects.filter(lockout.every_count_of(email)).delete()
        user = User.objects.filter(email__iexact=email.strip()).first()
        record_event(
            "user.unlocked", acting_user=acting_user, target=user, details={"was_locked": bool(deleted)}
        )
    return bool(deleted)
