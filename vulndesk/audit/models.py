"""The append-only, hash-chained audit log.

Each event stores the hash of the one before it and its own sequence number, so an event that is
changed, inserted or deleted breaks the chain at that point (``vulndesk audit verify`` finds it).
Details must never hold report contents: they name objects by id, not by what they say.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64


class AuditChainHead(models.Model):
    """One row, locked by every append so that concurrent writers chain in a single order."""

    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit head at {self.seq}"


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept even if the account goes.")
    action = models.CharField(max_length=100)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_type = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering: ClassVar = ["seq"]
        indexes: ClassVar = [
            models.Index(fields=["project", "occurred_at"]),
            # The SLA clocks find a report's first decision among its events.
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnlyError
        super().save(*args, **kwargs)

    def delete(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnlyError

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field, in a fixed order and form."""
        body = {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "project_id": self.project_id,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class AuditLogIsAppendOnlyError(Exception):
    def __init__(self) -> None:
        super().__init__("audit events are append-only: they cannot be changed or deleted")
