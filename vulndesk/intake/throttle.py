"""Rate limits on intake, per network address and per sender, shared by every process.

Counts live in the database (one row per accepted attempt) so that every web worker and the SMTP
intake see the same numbers. Keys are HMACs: the table never holds an address in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vulndesk.intake.models import IntakeAttempt

WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Throttled(Exception):  # noqa: N818 - reads as the condition: "Throttled"
    """Too many reports from one address or sender in the last hour."""

    who: str
    limit: int
    retry_after_seconds: int
    # What was counted, when it is not reports from someone: "replies to this report".
    counted: str = ""

    def __str__(self) -> str:
        minutes = max(1, self.retry_after_seconds // 60)
        counted = self.counted or f"reports from this {self.who}"
        return f"too many {counted} (at most {self.limit} an hour); please try again in {minutes} minutes"


def bucket(kind: str, value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def check_and_count(kind: str, value: str, limit: int, *, counted: str = "") -> int:
    """Count one attempt for ``kind:value``; raise ``Throttled`` when over ``limit`` this hour.

    Returns how many attempts this hour came before this one (0 when nothing is counted)."""
    if not value or limit <= 0:
        return 0
    key = bucket(kind, value)
    now = timezone.now()
    with transaction.atomic():
        _serialize(key)
        IntakeAttempt.objects.filter(bucket=key, at__lt=now - WINDOW).delete()
        recent = IntakeAttempt.objects.filter(bucket=key)
        # A count, not the rows: a generous limit must not make every check read them all.
        earlier = recent.count()
        if earlier >= limit:
            oldest = recent.order_by("at").values_list("at", flat=True)[0]
            retry = int((oldest + WINDOW - now).total_seconds()) + 1
            raise Throttled(kind_label(kind), limit, max(retry, 1), counted)
        IntakeAttempt.objects.create(bucket=key, at=now)
    return earlier


def _serialize(key: str) -> None:
    """Attempts on one bucket wait for each other until the transaction that counted ends.

    Without it, on PostgreSQL, parallel requests would each count the attempts committed so far
    and all pass together (the count runs inside the report's transaction, which commits last).
    SQLite needs nothing: its IMMEDIATE transactions already run one writer at a time.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def kind_label(kind: str) -> str:
    labels = {
        "ip": "network address",
        "sender": "sender",
        "replace-link": "link",
        "reply": "report",
        "apply-ip": "network address",
        "apply-contact": "contact address",
    }
    return labels.get(kind, kind)
