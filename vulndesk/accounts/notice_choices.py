"""The "Notices" form of the account page: per kind of notice, how; and the digest's timezone.

Submitted choices that are refused come back as they were typed, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.http import QueryDict

from vulndesk.accounts.actions.notices import do_set_notice_preferences, do_set_timezone, is_zone
from vulndesk.accounts.models import User
from vulndesk.notify.models import Delivery, NoticeKind
from vulndesk.notify.preferences import PreferenceError, owns_open_cases, preferences_of

MAX_ZONE = 64


@dataclass
class NoticeChoices:
    choices: dict[NoticeKind, Delivery]
    timezone: str
    overdue_locked: bool  # the person owns open cases: "overdue" cannot be turned off
    error: str = ""
    rows: list[dict[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = [
            {
                "kind": str(kind),
                "label": kind.label,
                "chosen": str(self.choices[kind]),
                "options": [
                    (
                        str(d),
                        d.label,
                        kind == NoticeKind.OVERDUE and d == Delivery.NONE and self.overdue_locked,
                    )
                    for d in Delivery
                ],
            }
            for kind in NoticeKind
        ]

    @classmethod
    def of(cls, user: User) -> NoticeChoices:
        return cls(preferences_of(user), user.timezone, owns_open_cases(user))

    @classmethod
    def from_post(cls, user: User, form: QueryDict) -> NoticeChoices:
        current = preferences_of(user)
        values = {str(d) for d in Delivery}
        sent = {kind: str(form.get(str(kind), "")) for kind in NoticeKind}
        choices = {
            kind: Delivery(sent[kind]) if sent[kind] in values else current[kind] for kind in NoticeKind
        }
        zone = form.get("timezone", "").strip()[:MAX_ZONE] or "UTC"
        return cls(choices, zone, owns_open_cases(user))

    def save(self, user: User) -> bool:
        if not is_zone(self.timezone):
            self.error = (
                f"{self.timezone!r} is not a timezone: write it as an IANA name, such as Europe/Paris."
            )
            return False
        try:
            with transaction.atomic():
                do_set_notice_preferences(user, self.choices, acting_user=user)
                do_set_timezone(user, self.timezone, acting_user=user)
        except PreferenceError as exc:
            self.error = str(exc).capitalize() + "."
            return False
        return True
