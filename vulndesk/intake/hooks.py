"""What other domains register to receive mail the SMTP intake accepts but does not store itself.

The intake sits below the cases domain, so it cannot call it: the cases domain registers here how
a reporter's answer to a per-report reply address joins the report's conversation
(``cases/emailed_replies.py``, registered in ``cases/apps.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReplyReceiver:
    """Mail to a reply address: ``knows`` answers at RCPT time whether the address is one of
    ours; ``receive`` stores the message's raw bytes and returns the report's number."""

    knows: Callable[[str], bool]
    receive: Callable[[str, bytes], int]


reply_receivers: list[ReplyReceiver] = []
