"""No sequence of triage actions, in any order, leaves a report in a state Vultron forbids."""

from __future__ import annotations

import contextlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vulndesk.accounts.models import User
from vulndesk.cases.actions import case_events, triage
from vulndesk.cases.models import Triage
from vulndesk.cases.vultron import RM_TRANSITIONS, CaseEvent, CaseState, RMState, TransitionError
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import Submission, SubmissionError
from vulndesk.projects.models import Project

REASON = "A reason long enough to explain the decision to the reporter."
ACTIONS: list[str | CaseEvent] = [
    "valid",
    "invalid",
    "not_security",
    "accept",
    "defer",
    "close",
    "request_info",
    *CaseEvent,
]
# Case events that need another one first (Vultron CS).
NEEDS = (
    (CaseEvent.FIX_READY, CaseEvent.VENDOR_AWARE),
    (CaseEvent.FIX_DEPLOYED, CaseEvent.FIX_READY),
    (CaseEvent.EXPLOIT_PUBLIC, CaseEvent.PUBLIC_AWARE),
    (CaseEvent.PUBLIC_AWARE, CaseEvent.VENDOR_AWARE),
)


def _apply(report: Report, action: str | CaseEvent, user: User) -> None:
    if isinstance(action, CaseEvent):
        case_events.do_record_case_event(report, action, acting_user=user)
        return
    match action:
        case "valid":
            triage.do_mark_valid(report, acting_user=user)
        case "invalid":
            triage.do_mark_invalid(report, REASON, acting_user=user)
        case "not_security":
            triage.do_mark_not_security(report, REASON, acting_user=user)
        case "accept":
            triage.do_accept(report, acting_user=user)
        case "defer":
            triage.do_defer(report, REASON, acting_user=user)
        case "close":
            triage.do_close(report, acting_user=user)
        case _:
            triage.do_request_info(report, "Which version?", acting_user=user)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_no_sequence_of_actions_reaches_a_forbidden_state(
    alice: User, actions: list[str | CaseEvent]
) -> None:
    project = Project.objects.get(slug="llm-d")
    report = do_receive_report(
        project, Submission(title="t", description="d"), channel=Channel.API, acting_user=None
    )
    states = [RMState.RECEIVED]
    for action in actions:
        with contextlib.suppress(TransitionError, SubmissionError):
            _apply(report.report, action, alice)
        report.report.refresh_from_db()
        current = RMState(report.report.rm_state)
        if current != states[-1]:
            assert (states[-1], current) in RM_TRANSITIONS
            states.append(current)
    assert (RMState.VALID, RMState.CLOSED) not in itertools.pairwise(states)
    flags = CaseState.parse(Triage.objects.get_or_create(report=report.report)[0].case_state).happened
    for later, earlier in NEEDS:
        assert later not in flags or earlier in flags
