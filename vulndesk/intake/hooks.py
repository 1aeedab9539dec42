"""What other domains register to hear of reports arriving and of mail the SMTP intake accepts but
does not store itself.

The intake sits below the cases and duplicates domains, so it cannot call them: the cases domain
registers here how a reporter's answer to a per-report reply address joins the report's
conversation (``cases/emailed_replies.py``), reads a new report's evidence and says whether it
carries any (``cases/evidence.py``); the duplicates domain queues its ranking (``duplicates/tasks.py``),
and ranks again when a report leaves quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vulndesk.intake.models import Report


@dataclass(frozen=True)
class ReplyReceiver:
    """Mail to a reply address: ``knows`` answers at RCPT time whether the address is one of
    ours; ``receive`` stores the message's raw bytes and returns the report's number."""

    knows: Callable[[str], bool]
    receive: Callable[[str, bytes], int]


reply_receivers: list[ReplyReceiver] = []


on_report_received: list[Callable[[Report, dict[str, str], int], None]] = []
"""Called inside the transaction that stores a new report, with its fields as they arrived (before
sealing: nothing to open) and how many files it carries. What a hook queues commits with the report."""

carries_evidence: list[Callable[[Report], bool]] = []
"""Asked after ``on_report_received``: does the new report carry a proof of concept or steps to
reproduce? The cases domain answers from the evidence it just recorded; the acknowledgement of such
a report goes first in the outbox (``intake.actions.acknowledgement_priority``)."""

on_report_released: list[Callable[[Report], None]] = []
"""Called inside the transaction that releases a report from quarantine: it is now one of the
project's reports like the others (the duplicates domain ranks it, and the later reports, again)."""
