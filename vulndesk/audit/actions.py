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


class _ChainWalk:
    """The chain read so far: the last event checked, and the hash the next one must follow."""

    def __init__(self) -> None:
        self.seq = 0
        self.hash = GENESIS_HASH

    def walk_on(self) -> ChainBreak | None:
        """Check every event after the last one checked; name the first that breaks the chain."""
        for event in AuditEvent.objects.filter(seq__gt=self.seq).order_by("seq").iterator(chunk_size=2000):
            if event.seq != self.seq + 1:
                return ChainBreak(self.seq + 1, f"event #{self.seq + 1} is missing (next is #{event.seq})")
            if event.prev_hash != self.hash:
                return ChainBreak(event.seq, f"event #{event.seq} does not follow #{event.seq - 1}")
            if event.compute_hash() != event.hash:
                return ChainBreak(event.seq, f"event #{event.seq} was changed after it was written")
            self.seq, self.hash = event.seq, event.hash
        return None


def verify_chain() -> ChainBreak | None:
    """Recompute the chain; name the first event that was changed, inserted or deleted.

    The head is read after the events: events appended while the walk ran move it on, so when it
    is ahead of the walk and more events exist, the walk goes on to them before judging.
    """
    walk = _ChainWalk()
    while True:
        broken = walk.walk_on()
        if broken is not None:
            return broken
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is None or head.seq <= walk.seq or not AuditEvent.objects.filter(seq__gt=walk.seq).exists():
            return _compare_head(head, walk)


def _compare_head(head: AuditChainHead | None, walk: _ChainWalk) -> ChainBreak | None:
    if head is None:
        if walk.seq == 0:
            return None
        return ChainBreak(
            walk.seq, f"the chain head is gone while {walk.seq} events remain: events may have been deleted"
        )
    if head.seq > walk.seq:
        return ChainBreak(walk.seq + 1, f"events after #{walk.seq} were deleted")
    if head.seq < walk.seq:
        return ChainBreak(head.seq + 1, f"event #{head.seq + 1} was added behind the chain head's back")
    if head.last_hash != walk.hash:
        return ChainBreak(walk.seq, f"the chain head disagrees with event #{walk.seq}")
    return None
