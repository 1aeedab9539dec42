"""Where a case stands, in one place: the stage its page shows, and the steps that move it on.

``stage_of`` is pure: it reads ``CaseFacts`` (gathered by ``case_facts``) and answers the furthest
stage the case has reached. Stages can be skipped (a case without an embargo never has "embargo
agreed"); a later stage counts once reached, whatever came before. ``next_steps`` names the one or
two actions that move the case on from its stage, each with what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vulndesk.cases import hooks
from vulndesk.cases.models import Triage
from vulndesk.cases.vultron import CaseEvent, CaseState, RMState
from vulndesk.intake.models import Report


class Stage(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    FIX_PLANNED = "fix_planned"
    FIX_READY = "fix_ready"
    EMBARGO_AGREED = "embargo_agreed"
    ADVISORY_APPROVED = "advisory_approved"
    PUBLISHED = "published"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]

    @property
    def applies_when(self) -> str:
        return APPLIES_WHEN[self]


STAGES = list(Stage)
STAGE_LABELS = {
    Stage.RECEIVED: "Received",
    Stage.ACKNOWLEDGED: "Acknowledged",
    Stage.TRIAGED: "Triaged",
    Stage.FIX_PLANNED: "Fix planned",
    Stage.FIX_READY: "Fix ready",
    Stage.EMBARGO_AGREED: "Embargo agreed",
    Stage.ADVISORY_APPROVED: "Advisory approved",
    Stage.PUBLISHED: "Published",
    Stage.CLOSED: "Closed",
}
APPLIES_WHEN = {
    Stage.RECEIVED: "The report arrived.",
    Stage.ACKNOWLEDGED: "The team told the reporter it has the report (a triage decision counts too).",
    Stage.TRIAGED: "The team decided whether the report is a vulnerability.",
    Stage.FIX_PLANNED: "The case is accepted and the affected versions are recorded.",
    Stage.FIX_READY: "A fix is ready: a release line is fixed, or the team recorded it.",
    Stage.EMBARGO_AGREED: "The reporter and the team agreed when the issue becomes public.",
    Stage.ADVISORY_APPROVED: "A second team member approved the draft advisory.",
    Stage.PUBLISHED: "The advisory is public.",
    Stage.CLOSED: "Nothing is left to do: published and the fix deployed (or none needed), or rejected.",
}


@dataclass(frozen=True)
class CaseFacts:
    rm_state: RMState
    acknowledged: bool
    case_state: CaseState
    affected_recorded: bool
    embargo_agreed: bool
    has_draft: bool
    draft_approved: bool
    published: bool
    no_fix_needed: bool
    # Held by the spam check: not in the queue, and nothing mailed to the address it gave.
    quarantined: bool = False


def reached(facts: CaseFacts) -> set[Stage]:
    """Every stage whose condition holds; a skipped one (no embargo) is not among them."""
    conditions = {
        Stage.RECEIVED: True,
        Stage.ACKNOWLEDGED: facts.acknowledged or facts.rm_state != RMState.RECEIVED,
        Stage.TRIAGED: facts.rm_state != RMState.RECEIVED,
        Stage.FIX_PLANNED: facts.affected_recorded and facts.rm_state in {RMState.ACCEPTED, RMState.CLOSED},
        Stage.FIX_READY: CaseEvent.FIX_READY in facts.case_state.happened,
        Stage.EMBARGO_AGREED: facts.embargo_agreed,
        Stage.ADVISORY_APPROVED: facts.draft_approved or facts.published,
        Stage.PUBLISHED: facts.published,
        Stage.CLOSED: facts.rm_state == RMState.CLOSED,
    }
    return {stage for stage, holds in conditions.items() if holds}


def stage_of(facts: CaseFacts) -> Stage:
    """The furthest stage reached; a rejected report stays triaged until it closes."""
    done = reached(facts)
    return next(stage for stage in reversed(STAGES) if stage in done)


def case_facts(report: Report, triage: Triage) -> CaseFacts:
    """The facts of ``report``; the embargo and the advisories domains answer for theirs."""
    advisory = next((facts(report) for facts in hooks.advisory_facts), hooks.AdvisoryFacts())
    return CaseFacts(
        rm_state=RMState(report.rm_state),
        acknowledged=triage.acknowledged_at is not None
        or report.messages.filter(author_kind="team", visibility="shared").exists(),
        case_state=CaseState.parse(triage.case_state),
        affected_recorded=report.affected_packages.exists(),
        embargo_agreed=any(agreed(report) for agreed in hooks.embargo_agreed),
        has_draft=advisory.has_draft,
        draft_approved=advisory.draft_approved,
        published=advisory.published,
        no_fix_needed=triage.no_fix_needed_at is not None,
        quarantined=report.quarantined,
    )


@dataclass(frozen=True)
class Step:
    """One action that moves the case on: its name (the form the page shows) and what it needs."""

    action: str
    title: str
    needs: str


# A held report judged invalid or closed stays held: releasing it would mail the receipt and the
# decision to whatever address the spam gave.
KEPT_IN_QUARANTINE = frozenset({RMState.INVALID, RMState.CLOSED})


def release_refusal(report: Report) -> str:
    """Why ``report`` cannot be released from quarantine ("was closed while held"), or "" if it can."""
    if not report.quarantined:
        return "is not in quarantine"
    if RMState(report.rm_state) in KEPT_IN_QUARANTINE:
        return f"was {'closed' if report.rm_state == RMState.CLOSED else 'judged invalid'} while held"
    return ""


# Acknowledging a held report would mail whoever the spam gave as its sender: a person judges first.
QUARANTINE_STEPS = (
    Step("release", "Release it from quarantine if it is genuine", "Nothing more; held mail then goes out."),
    Step("decision", "Or close it", "A reason; nothing is mailed to the address it gave."),
)


def next_steps(facts: CaseFacts, stage: Stage) -> list[Step]:
    """At most two steps, the most useful first."""
    if facts.quarantined and facts.rm_state not in KEPT_IN_QUARANTINE:
        return list(QUARANTINE_STEPS)
    return _steps(facts, stage)


def _steps(facts: CaseFacts, stage: Stage) -> list[Step]:
    happened = facts.case_state.happened
    if stage == Stage.CLOSED:
        return []
    if stage == Stage.RECEIVED:
        return [
            Step("acknowledge", "Acknowledge the report", "A message to the reporter (edit the template)."),
            Step(
                "accept", "Decide: a vulnerability to fix", "Nothing more; other decisions are one link away."
            ),
        ]
    if facts.rm_state == RMState.RECEIVED:
        return [
            Step(
                "accept", "Decide: a vulnerability to fix", "Nothing more; other decisions are one link away."
            )
        ]
    if facts.rm_state == RMState.VALID:
        return [Step("accept", "Accept the case and plan a fix", "Nothing more.")]
    if facts.rm_state not in {RMState.ACCEPTED, RMState.DEFERRED}:
        return [Step("decision", "Close or reopen the report", "A decision on its own page.")]
    return _fix_and_publication_steps(facts, happened)


def _fix_and_publication_steps(facts: CaseFacts, happened: frozenset[CaseEvent]) -> list[Step]:
    """The first condition not met yet names the steps (a table, read top to bottom)."""
    embargo = Step("embargo", "Agree when to disclose", "An end date, or none.")
    table = [
        (facts.published, [_settle_fix_step(happened), Step("no_fix", "Or: no fix is needed", "A reason.")]),
        (
            not facts.affected_recorded,
            [Step("affected", "Record the affected versions", "A package URL and a vers range.")],
        ),
        (
            CaseEvent.FIX_READY not in happened,
            [Step("fixed_line", "Record the fix", "The version that fixes a release line."), embargo],
        ),
        (
            not facts.has_draft,
            [Step("draft", "Draft the advisory", "Nothing: it starts from the case."), embargo],
        ),
        (
            not facts.draft_approved,
            [
                Step(
                    "review",
                    "Complete the draft and have it approved",
                    "A summary; another team member approves.",
                )
            ],
        ),
        (
            facts.embargo_agreed,
            [Step("scheduled", "Publication at the embargo end", "Nothing: the worker publishes it then.")],
        ),
    ]
    return next(
        (steps for applies, steps in table if applies),
        [Step("publish", "Publish the advisory", "A recent sign-in.")],
    )


def _settle_fix_step(happened: frozenset[CaseEvent]) -> Step:
    if CaseEvent.FIX_READY not in happened:
        return Step("fix_ready", "Record that the fix is ready, then deployed", "Nothing more.")
    return Step("fix_deployed", "Record the fix as deployed: the case then closes", "Nothing more.")
