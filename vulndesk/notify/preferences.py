"""Who hears of a team notice, and how: each person chooses per kind of notice (``NoticeKind``)
mail at once, a line in the daily digest (``notify.digest``), or nothing.

Team notices go through ``queue_team_notice`` instead of ``queue_email``: it splits the mail's
recipients by their choice. Mail to reporters and distributors is never routed here: they have
no preferences, and what they are sent is part of the disclosure process.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from vulndesk.notify.actions import Email, queue_email, render
from vulndesk.notify.models import Delivery, DigestItem, NoticeKind, NoticePreference, OutboundEmail

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report
    from vulndesk.projects.models import Project


class PreferenceError(ValueError):
    pass


def preferences_of(user: User) -> dict[NoticeKind, Delivery]:
    """Every kind with the person's choice; a kind never chosen is mailed at once."""
    chosen = dict(NoticePreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: Delivery(chosen.get(kind, Delivery.AT_ONCE)) for kind in NoticeKind}


def owns_open_cases(user: User) -> bool:
    # Through the case's relation to its owner: the cases domain builds on notify.
    return user.owned_cases.exclude(report__rm_state="closed").exists()


def queue_team_notice(
    email: Email,
    kind: NoticeKind,
    *,
    project: Project | None = None,
    about: Report | None = None,
    owner: User | None = None,
) -> OutboundEmail | None:
    """In the action's transaction: one mail to those who want it at once, a digest line for those
    who want a digest, nothing for the rest. ``owner`` (of the case an overdue notice is about)
    hears of it even if they chose nothing before they became the owner."""
    # The person model by Django's own setting, not an import: accounts builds on notify.
    people = {u.email: u for u in get_user_model().objects.filter(email__in=email.to, is_active=True)}
    chosen = dict(
        NoticePreference.objects.filter(user__in=people.values(), kind=kind).values_list(
            "user_id", "delivery"
        )
    )
    at_once: list[str] = []
    for address in email.to:
        person = people.get(address)
        delivery = Delivery(chosen.get(person.pk, Delivery.AT_ONCE)) if person else Delivery.AT_ONCE
        if kind == NoticeKind.OVERDUE and owner is not None and person == owner and delivery == Delivery.NONE:
            delivery = Delivery.AT_ONCE
        if delivery == Delivery.AT_ONCE:
            at_once.append(address)
        elif delivery == Delivery.DIGEST and person is not None:
            _keep_for_digest(person, kind, email)
    if not at_once:
        return None
    return queue_email(dataclasses.replace(email, to=at_once), project=project, about=about)


def _keep_for_digest(person: User, kind: NoticeKind, email: Email) -> None:
    subject = str(render(dataclasses.replace(email, to=[person.email]))["subject"])
    url = email.context.get("report_url") or email.context.get("desk_url") or ""
    DigestItem.objects.create(user=person, kind=kind, subject=subject[:300], url=str(url)[:500])
