"""A report's state in the words a reporter understands (Vultron's names are for the team)."""

from __future__ import annotations

from vulndesk.cases.vultron import RMState

REPORTER_WORDS: dict[RMState, str] = {
    RMState.START: "not yet received",
    RMState.RECEIVED: "received, waiting for the security team's first look",
    RMState.INVALID: "not accepted as a vulnerability",
    RMState.VALID: "confirmed as a vulnerability",
    RMState.ACCEPTED: "accepted: a fix is being planned",
    RMState.DEFERRED: "on hold",
    RMState.CLOSED: "closed",
}


def reporter_status(rm_state: str) -> str:
    try:
        return REPORTER_WORDS[RMState(rm_state)]
    except ValueError:
        return rm_state
