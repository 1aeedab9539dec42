"""The mail the outbox itself sends for another domain: each a named function returning its Email."""

from __future__ import annotations

from django.db import transaction

from vulndesk.notify.actions import Email, queue_email


def audit_checkpoint(address: str, checkpoint: dict[str, object], line: str) -> Email:
    return Email(kind="audit-checkpoint", to=[address], context={**checkpoint, "line": line})


def queue_audit_checkpoint(address: str, checkpoint: dict[str, object], line: str) -> None:
    """The audit domain's ``mailto:`` checkpoint destination (``audit/hooks.py``)."""
    with transaction.atomic():
        queue_email(audit_checkpoint(address, checkpoint, line))
