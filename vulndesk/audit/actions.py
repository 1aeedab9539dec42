"""Writing to the audit log. Called by every ``do_*`` action, inside its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.db.models import Model

    from vulndesk.accounts.models import User
    from vulndesk.projects.models import Project

JsonScalar = str | int | float | bool | None


def actor_label(user: User | None) -> str:
    return user.email if user is not None else "system"


def record_event(
    action: str,
    *,
    acting_user: User | None,
    project: Project | None = None,
    target: Model | None = None,
    details: dict[str, JsonScalar | list[str]] | None = None,
) -> AuditEvent:
    """Append one event to the chain; the caller's transaction makes it atomic with the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the action's transaction")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=timezone.now(),
        actor=acting_user,
        actor_label=actor_label(acting_user),
        action=action,
        project=project,
        target_type=target._meta.label_lower if target is not None else "",  # noqa: SLF001 - Django API
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
        prev_hash=head.last_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.seq, head.last_hash = event.seq, event.hash
    head.save(update_fields=["seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain() -> ChainBreak | None:
    """Recompute the chain; name the first event that was changed, inserted or deleted."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainBreak(expected_seq, f"event #{expected_seq} is missing (next is #{event.seq})")
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, f"event #{event.seq} does not follow #{event.seq - 1}")
        if event.compute_hash() != event.hash:
            return ChainBreak(event.seq, f"event #{event.seq} was changed after it was written")
        expected_prev, expected_seq = event.hash, expected_seq + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq != expected_seq - 1:
        return ChainBreak(expected_seq, f"events after #{expected_seq - 1} were deleted")
    return None
