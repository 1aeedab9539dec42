"""People who sign in: admins, project team members and (later) distributor members.

Reporters have no account: they hold a tracking link instead (see intake).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from vulndesk.accounts.permissions import Permission, Role, role_grants
from vulndesk.crypto import SealedColumns

if TYPE_CHECKING:
    from vulndesk.projects.models import Project


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    is_admin = models.BooleanField(default=False, help_text="Holds every permission on every project.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # An IANA name: the person's daily digest goes out in the morning of their own day.
    timezone = models.CharField(max_length=64, default="UTC")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    def __str__(self) -> str:
        return self.display_name or self.email

    def roles_on(self, project: Project) -> set[Role]:
        roles = {Role(m.role) for m in self.memberships.filter(project=project)}
        if self.is_admin:
            roles.add(Role.ADMIN)
        return roles

    def has_project_permission(self, project: Project, permission: Permission) -> bool:
        return any(role_grants(role, permission) for role in self.roles_on(project))


class Membership(models.Model):
    """A person's role on one project's team. A person may be on several projects' teams."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=20, choices=[(Role.TEAM, "Team member"), (Role.LEAD, "Team lead")], default=Role.TEAM
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.project}"


def token_digest(raw_token: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: nobody can brute-force the
    # preimage, and the database never holds a usable token.
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token.")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, help_text="Permission strings; empty means all of the user's.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        moment = now or timezone.now()
        if self.revoked_at is not None or not self.user.is_active:
            return False
        return self.expires_at is None or self.expires_at > moment

    def allows(self, permission: Permission) -> bool:
        return not self.scopes or str(permission) in self.scopes


class TotpDevice(SealedColumns, models.Model):
    """A person's authenticator (RFC 6238): the shared secret, sealed like report contents."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    sealed_secret = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Set once a first code matched.")
    # The last time step a code was accepted for: a code is good once, never replayed.
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    sealed_contexts: ClassVar = {
        "sealed_secret": "totp:{user_id}",
    }

    def __str__(self) -> str:
        return f"authenticator of {self.user}"

    @property
    def secret(self) -> str:
        return self.opened("sealed_secret")

    @secret.setter
    def secret(self, value: str) -> None:
        self.sealed_secret = self.sealed("sealed_secret", value)


class RecoveryCode(models.Model):
    """A one-time code for when the authenticator is lost; only a keyed hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of {self.user}"


class LoginThrottle(models.Model):
    """Failed sign-ins per account name, whether or not the account exists (so nobody can tell)."""

    key = models.CharField(max_length=64, unique=True, help_text="HMAC of the normalised email.")
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive failures.")
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_for_good = models.BooleanField(default=False, help_text="Until an administrator unlocks it.")

    def __str__(self) -> str:
        return f"sign-in throttle {self.key[:8]}…"


class LinkPurpose(models.TextChoices):
    INVITATION = "invitation", "Invitation to a project's team"
    PASSWORD_RESET = "password-reset", "Password reset"


class AccountLink(models.Model):
    """A single-use, expiring link mailed to a person: an invitation or a password reset.

    Only the digest of its token is stored, so a copy of the database opens no account.
    """

    purpose = models.CharField(max_length=20, choices=LinkPurpose.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_links")
    project = models.ForeignKey("projects.Project", null=True, blank=True, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, blank=True, help_text="The team role an invitation grants.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.user}"

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.used_at is None and self.expires_at > moment and self.user.is_active
