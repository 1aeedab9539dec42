"""CERT/CC's Vultron protocol: the formal states of coordinated vulnerability disclosure.

Pure rules, no storage: the ``do_*`` actions consult these before they change anything.

- Report management (RM), per participant: Start, Received, Invalid, Valid, Accepted, Deferred,
  Closed, with exactly the transitions Vultron allows (Valid→Closed is not one of them: a valid
  report is accepted or deferred before it closes).
- Case state (CS): six events, each happening once and never undone — the Vendor is aware, a Fix
  is ready, the fix is Deployed, the Public is aware, an eXploit is public, Attacks are observed.
  V comes before F, and F before D. A public exploit makes the public aware at once, and a public
  case makes the vendor aware at once: those implied events follow immediately. Exactly 70
  orderings of the six events satisfy these rules.
- Embargo management (EM): None, Proposed, Active, Revise, eXited; built out with the embargo domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RMState(StrEnum):
    START = "start"
    RECEIVED = "received"
    INVALID = "invalid"
    VALID = "valid"
    ACCEPTED = "accepted"
    DEFERRED = "deferred"
    CLOSED = "closed"


# Vultron RM: S→R; R→V; I→V; R→I; V→A; D→A; V→D; A→D; A→C; D→C; I→C.
RM_TRANSITIONS: frozenset[tuple[RMState, RMState]] = frozenset(
    {
        (RMState.START, RMState.RECEIVED),
        (RMState.RECEIVED, RMState.VALID),
        (RMState.INVALID, RMState.VALID),
        (RMState.RECEIVED, RMState.INVALID),
        (RMState.VALID, RMState.ACCEPTED),
        (RMState.DEFERRED, RMState.ACCEPTED),
        (RMState.VALID, RMState.DEFERRED),
        (RMState.ACCEPTED, RMState.DEFERRED),
        (RMState.ACCEPTED, RMState.CLOSED),
        (RMState.DEFERRED, RMState.CLOSED),
        (RMState.INVALID, RMState.CLOSED),
    }
)


class TransitionError(ValueError):
    """A change the protocol does not allow; the message says which and why."""


def check_rm_transition(current: RMState, target: RMState) -> None:
    if (current, target) not in RM_TRANSITIONS:
        allowed = sorted(t.value for (s, t) in RM_TRANSITIONS if s == current)
        raise TransitionError(
            f"a report that is {current.value} cannot become {target.value}"
            + (f" (it can become: {', '.join(allowed)})" if allowed else " (it is final)")
        )


class CaseEvent(StrEnum):
    VENDOR_AWARE = "V"
    FIX_READY = "F"
    FIX_DEPLOYED = "D"
    PUBLIC_AWARE = "P"
    EXPLOIT_PUBLIC = "X"
    ATTACKS_OBSERVED = "A"


_REQUIRES: dict[CaseEvent, CaseEvent] = {
    CaseEvent.FIX_READY: CaseEvent.VENDOR_AWARE,
    CaseEvent.FIX_DEPLOYED: CaseEvent.FIX_READY,
}
# An event that, when it happens first, brings another one with it at once.
_IMPLIES: dict[CaseEvent, CaseEvent] = {
    CaseEvent.EXPLOIT_PUBLIC: CaseEvent.PUBLIC_AWARE,
    CaseEvent.PUBLIC_AWARE: CaseEvent.VENDOR_AWARE,
}


@dataclass(frozen=True)
class CaseState:
    """The set of case events that have happened, written in Vultron's ``vfdpxa`` notation."""

    happened: frozenset[CaseEvent] = frozenset()

    def __str__(self) -> str:
        return "".join(e.value if e in self.happened else e.value.lower() for e in CaseEvent)

    @classmethod
    def parse(cls, notation: str) -> CaseState:
        if len(notation) != len(CaseEvent) or notation.upper() != "".join(e.value for e in CaseEvent):
            raise ValueError(f"{notation!r} is not vfdpxa notation")
        return cls(frozenset(e for e, letter in zip(CaseEvent, notation, strict=True) if letter.isupper()))

    def record(self, event: CaseEvent) -> tuple[CaseState, list[CaseEvent]]:
        """The state after ``event``, and every event that happened (the implied ones after it)."""
        if event in self.happened:
            raise TransitionError(f"{_NAMES[event]} has already happened: case events only go up")
        needed = _REQUIRES.get(event)
        if needed is not None and needed not in self.happened:
            raise TransitionError(f"{_NAMES[event]} needs {_NAMES[needed]} first")
        state, events = CaseState(self.happened | {event}), [event]
        implied = _IMPLIES.get(event)
        while implied is not None and implied not in state.happened:
            state, events = CaseState(state.happened | {implied}), [*events, implied]
            implied = _IMPLIES.get(implied)
        return state, events

    @property
    def is_public(self) -> bool:
        return CaseEvent.PUBLIC_AWARE in self.happened


_NAMES = {
    CaseEvent.VENDOR_AWARE: "the vendor being aware",
    CaseEvent.FIX_READY: "a fix being ready",
    CaseEvent.FIX_DEPLOYED: "the fix being deployed",
    CaseEvent.PUBLIC_AWARE: "the public being aware",
    CaseEvent.EXPLOIT_PUBLIC: "an exploit being public",
    CaseEvent.ATTACKS_OBSERVED: "attacks being observed",
}


def valid_history(events: list[CaseEvent]) -> bool:
    """Whether an ordering of case events is one Vultron allows (used by the tests)."""
    state = CaseState()
    position = 0
    while position < len(events):
        try:
            state, happened = state.record(events[position])
        except TransitionError:
            return False
        if events[position : position + len(happened)] != happened:
            return False
        position += len(happened)
    return True


class EMState(StrEnum):
    """Embargo management; the embargo domain moves a case through these."""

    NONE = "none"
    PROPOSED = "proposed"
    ACTIVE = "active"
    REVISE = "revise"
    EXITED = "exited"
