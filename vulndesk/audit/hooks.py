"""What other domains register to carry an audit checkpoint where the operator chose.

The audit log sits below the outbox, so it cannot queue mail: ``notify`` registers here how a
checkpoint goes to a ``mailto:`` destination (``notify/emails.queue_audit_checkpoint``, registered
in ``notify/apps.py``).
"""

from __future__ import annotations

from typing import Protocol


class CheckpointMailer(Protocol):
    """Mail ``checkpoint`` (and its one-line JSON, ``line``) to ``address``, after commit."""

    def __call__(self, address: str, checkpoint: dict[str, object], line: str) -> None: ...


checkpoint_mailers: list[CheckpointMailer] = []
