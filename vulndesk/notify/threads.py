"""Mail threads: Message-IDs on our own domain, and the headers that put a mail in its thread.

A reporter's client threads our mails with their report when each carries ``In-Reply-To`` and
``References`` naming the thread's first message (RFC 5322 §3.6.4): the reporter's own message for
a mailed report, our acknowledgement otherwise. The team's notices about a report form a thread of
their own, so a team member's client shows one conversation per report.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from django.conf import settings

# RFC 5322 §3.6.4 msg-id, as far as we repeat one: "<left@right>" of printable ASCII without
# spaces, angle brackets or a second "@". Anything else a sender wrote is not copied into a header.
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]{1,200}@[!-;=?-~]{1,200}>$")
MAX_MESSAGE_ID = 250


def new_message_id() -> str:
    """A fresh, unguessable Message-ID on the mail domain (never an IP literal)."""
    return f"<{uuid.uuid4()}@{settings.MAIL_DOMAIN}>"


def keyed_message_id(name: str) -> str:
    """A thread root that needs no storage: the same ``name`` gives the same id, and the id, keyed
    with the secret, tells nobody which report or organisation it names."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"thread:{name}".encode(), hashlib.sha256).hexdigest()
    return f"<thread.{mac[:32]}@{settings.MAIL_DOMAIN}>"


def safe_message_id(value: str) -> str | None:
    """``value`` when it is a plain msg-id we may repeat in our own headers, else None."""
    candidate = value.strip()
    if len(candidate) > MAX_MESSAGE_ID or not _MESSAGE_ID.match(candidate) or candidate.count("@") != 1:
        return None
    return candidate


@dataclass(frozen=True)
class Thread:
    """Where a mail belongs: the first message of its thread, and whether this mail is that one."""

    root: str
    opens: bool = False

    def headers(self) -> dict[str, str]:
        if self.opens or not self.root:
            return {}
        # Every mail answers the first one: clients thread on References, and one id keeps the
        # header short however long the conversation grows.
        return {"In-Reply-To": self.root, "References": self.root}
