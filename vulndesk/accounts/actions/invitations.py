"""Inviting a person to a project's team by mail, and the invitee taking up the invitation.

A new person gets an account without a password and a single-use link; following it, they choose
a password and go straight on to the existing authenticator enrollment, so nobody is on a team
without a second factor. Someone who already has an account is added at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from vulndesk.accounts import emails
from vulndesk.accounts.actions import TEAM_ROLES, AccountError, _add_membership
from vulndesk.accounts.links import issue_link, set_password_by_link
from vulndesk.accounts.models import AccountLink, LinkPurpose, Membership, User
from vulndesk.accounts.permissions import Permission, Role
from vulndesk.audit.actions import record_event
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    from vulndesk.projects.models import Project

ROLE_WORDS = {Role.TEAM: "a team member", Role.LEAD: "a team lead"}


def do_invite_team_member(project: Project, email: str, role: Role, *, acting_user: User) -> str:
    """Invite ``email`` to the team as ``role``; says what was done ("invited" or "added")."""
    if not acting_user.has_project_permission(project, Permission.PROJECT_TEAM_MANAGE):
        raise AccountError("only an administrator or the project's team lead manages its team")
    if role not in TEAM_ROLES:
        raise AccountError("choose the role: team member or team lead")
    address = _checked_address(email)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=address).first()
        if user is not None and Membership.objects.filter(user=user, project=project).exists():
            raise AccountError(f"{user.email} is already on the team of {project.name}")
        if user is not None and user.has_usable_password():
            _add_membership(user, project, acting_user=acting_user, role=role)
            return "added"
        if user is None:
            user = User.objects.create_user(address, None)
            record_event("user.created", acting_user=acting_user, target=user, details={"role": str(role)})
        _send_invitation(user, project, role, acting_user=acting_user)
    return "invited"


def _checked_address(email: str) -> str:
    address = email.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise AccountError(f"{email!r} is not an email address") from None
    return address


def _send_invitation(user: User, project: Project, role: Role, *, acting_user: User) -> None:
    url = issue_link(user, LinkPurpose.INVITATION, project=project, role=str(role))
    record_event(
        "team.member_invited",
        acting_user=acting_user,
        project=project,
        target=user,
        details={"role": str(role)},
    )
    mail = emails.team_invitation(
        user,
        project_name=project.name,
        role=ROLE_WORDS[role],
        inviter=acting_user,
        url=url,
        now=timezone.now(),
    )
    queue_email(mail, project=project)


def pending_invitations(project: Project) -> list[AccountLink]:
    now = timezone.now()
    links = AccountLink.objects.filter(
        project=project, purpose=LinkPurpose.INVITATION, used_at__isnull=True, expires_at__gt=now
    )
    return list(links.select_related("user").order_by("user__email"))


def do_accept_invitation(link: AccountLink, password: str) -> User:
    """The invitee chose a password (validated by the form): they are on the team from now on."""
    user = link.user
    with transaction.atomic():
        if not set_password_by_link(link, password):
            raise AccountError("this invitation was already used")
        record_event("team.invitation_accepted", acting_user=user, project=link.project, target=user)
        project = link.project
        if project is not None and not Membership.objects.filter(user=user, project=project).exists():
            _add_membership(user, project, acting_user=user, role=Role(link.role or Role.TEAM))
    return user
