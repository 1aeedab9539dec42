from __future__ import annotations

from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vulndesk.cases.vultron import (
    RM_TRANSITIONS,
    CaseEvent,
    CaseState,
    RMState,
    TransitionError,
    check_rm_transition,
    valid_history,
)


def test_the_valid_orders_of_the_six_case_events_are_exactly_vultrons_70() -> None:
    valid = [order for order in permutations(CaseEvent) if valid_history(list(order))]
    assert len(valid) == 70


def test_a_valid_report_cannot_be_closed_directly() -> None:
    with pytest.raises(TransitionError, match="cannot become closed"):
        check_rm_transition(RMState.VALID, RMState.CLOSED)


def test_the_rm_transitions_are_exactly_vultrons() -> None:
    letters = {s: s.value[0].upper() for s in RMState}
    pairs = {f"{letters[a]}{letters[b]}" for a, b in RM_TRANSITIONS}
    assert pairs == {"SR", "RV", "IV", "RI", "VA", "DA", "VD", "AD", "AC", "DC", "IC"}


@given(st.lists(st.sampled_from(list(RMState)), max_size=30))
def test_no_sequence_of_rm_actions_reaches_a_forbidden_state(targets: list[RMState]) -> None:
    state = RMState.START
    for target in targets:
        try:
            check_rm_transition(state, target)
        except TransitionError:
            continue
        assert (state, target) in RM_TRANSITIONS
        assert (state, target) != (RMState.VALID, RMState.CLOSED)
        state = target
    if state == RMState.CLOSED:
        assert all(source != RMState.CLOSED for source, _ in RM_TRANSITIONS)


@given(st.lists(st.sampled_from(list(CaseEvent)), max_size=20))
def test_no_sequence_of_case_events_breaks_the_case_state_rules(attempts: list[CaseEvent]) -> None:
    state, history = CaseState(), []
    for event in attempts:
        try:
            state, happened = state.record(event)
        except TransitionError:
            continue
        history.extend(happened)
        flags = state.happened
        assert CaseEvent.FIX_READY not in flags or CaseEvent.VENDOR_AWARE in flags
        assert CaseEvent.FIX_DEPLOYED not in flags or CaseEvent.FIX_READY in flags
        assert CaseEvent.EXPLOIT_PUBLIC not in flags or CaseEvent.PUBLIC_AWARE in flags
        assert CaseEvent.PUBLIC_AWARE not in flags or CaseEvent.VENDOR_AWARE in flags
    assert len(history) == len(set(history)), "an event happened twice"
    assert valid_history(history)


def test_a_public_exploit_makes_the_case_public_and_the_vendor_aware() -> None:
    state, happened = CaseState().record(CaseEvent.EXPLOIT_PUBLIC)
    assert happened == [CaseEvent.EXPLOIT_PUBLIC, CaseEvent.PUBLIC_AWARE, CaseEvent.VENDOR_AWARE]
    assert str(state) == "VfdPXa"


def test_case_flags_only_go_up() -> None:
    state, _ = CaseState().record(CaseEvent.VENDOR_AWARE)
    with pytest.raises(TransitionError, match="already happened"):
        state.record(CaseEvent.VENDOR_AWARE)


def test_vfdpxa_notation_round_trips() -> None:
    assert str(CaseState.parse("VFdpxA")) == "VFdpxA"
    with pytest.raises(ValueError, match="vfdpxa"):
        CaseState.parse("VFD")
