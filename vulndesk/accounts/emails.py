"""The named emails of accounts: team invitations and password resets. Each carries one link."""

from __future__ import annotations

import datetime as dt

from vulndesk.accounts.links import LIFETIMES
from vulndesk.accounts.models import LinkPurpose, User
from vulndesk.notify.actions import Email


def _expiry(purpose: LinkPurpose, now: dt.datetime) -> str:
    return f"{now + LIFETIMES[purpose]:%A %d %B %Y, %H:%M} UTC"


def team_invitation(
    invitee: User, *, project_name: str, role: str, inviter: User | None, url: str, now: dt.datetime
) -> Email:
    return Email(
        kind="team-invitation",
        to=[invitee.email],
        context={
            "project_name": project_name,
            "role": role,
            "inviter": str(inviter) if inviter else "The administrator",
            "url": url,
            "expires": _expiry(LinkPurpose.INVITATION, now),
        },
    )


def password_reset(user: User, *, url: str, now: dt.datetime) -> Email:
    return Email(
        kind="password-reset",
        to=[user.email],
        context={"url": url, "expires": _expiry(LinkPurpose.PASSWORD_RESET, now)},
    )
