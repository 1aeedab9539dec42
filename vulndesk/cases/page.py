"""The team's case page, guided by the case's stage, and the small pages that edit one section each.

The case page shows the stage (``cases/stage.py``) and the next one or two steps up front; each
section below is its own include (``cases/sections/``). A form with free text lives on its own
small page (``section_page``), so a press on one form never loses what was typed in another,
with or without JavaScript (``static/vulndesk/unsaved.js`` adds a warning before leaving). The
embargo and distributors sections are filled by their domains, through ``hooks.case_panels``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.cases import hooks
from vulndesk.cases.actions import do_record_report_read, triage
from vulndesk.cases.actions.acknowledgement import acknowledgement_text, already_acknowledged
from vulndesk.cases.actions.fixes import backport_matrix, fix_plan_of, unsupported_lines
from vulndesk.cases.models import BackportStatus, Message, Resolution, Via
from vulndesk.cases.needs_evidence import evidence_context
from vulndesk.cases.saved_replies import saved_replies_of
from vulndesk.cases.saved_reply_views import saved_reply_prefill
from vulndesk.cases.severity import LlmRisk, cwe_name
from vulndesk.cases.sla import report_clocks
from vulndesk.cases.stage import STAGES, Stage, case_facts, next_steps, reached, release_refusal, stage_of
from vulndesk.cases.vultron import RM_TRANSITIONS, CaseEvent, CaseState, RMState
from vulndesk.duplicates.views import suggestions_context
from vulndesk.intake.access import access_report_for_team
from vulndesk.intake.models import Report
from vulndesk.projects.commitments import FIELD_LABELS
from vulndesk.projects.policy import ReportField
from vulndesk.projects.releases import supported_releases

CONVERSATION_TAIL = 50

# The small pages: each edits one section, with nothing else on it to lose.
SECTIONS = {
    "message": "Write to the reporter",
    "decision": "Triage decision",
    "people": "Owner and assignees",
    "severity": "Severity",
    "fix": "Fix and releases",
    "embargo": "Embargo",
    "no-fix": "No fix is needed",
    "distributors": "Distributors",
}


@login_required
@never_cache
def report_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user)
    do_record_report_read(report, via=Via.WEB, acting_user=user)
    fields = report.fields
    labelled = [("Description", fields.pop("description", ""))]
    labelled += [(_label(name), value) for name, value in fields.items()]
    case = triage.triage_of(report)
    return render(
        request,
        "cases/case_page.html",
        {
            **case_context(report),
            "fields": labelled,
            "attachments": report.attachments.all(),
            **_conversation(report, show_all=request.GET.get("all") == "1"),
            "public_bug_text": (
                triage.public_bug_text(report) if case.resolution == Resolution.NOT_SECURITY else ""
            ),
            **_panels(report, lambda panel: not panel.on_section_pages),
            **evidence_context(report),
            **suggestions_context(report),
        },
    )


@login_required
@never_cache
def section_page(request: HttpRequest, slug: str, number: int, section: str) -> HttpResponse:
    """One section's form on a page of its own; it posts to the section's handler as before."""
    if section not in SECTIONS:
        raise Http404
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    return render(
        request,
        "cases/section_page.html",
        {
            **case_context(report),
            **_panels(report, lambda panel: not panel.on_section_pages and panel.section == section),
            "section": section,
            "section_title": SECTIONS[section],
            **saved_reply_prefill(request, report),
        },
    )


def case_context(report: Report) -> dict[str, object]:
    """What the case page and the section pages share: the case, its stage and its sections."""
    case = triage.triage_of(report)
    facts = case_facts(report, case)
    stage = stage_of(facts)
    done = reached(facts)
    clocks = report_clocks(report)
    return {
        "report": report,
        "reporter": report.reporter,
        "triage": case,
        "stage": stage,
        # (stage, reached before the current one, current): a skipped stage shows unticked.
        "stages": [(s, s in done and s != stage, s == stage) for s in STAGES],
        "steps": next_steps(facts, stage),
        "sections": section_states(stage),
        "facts": facts,
        "acknowledgement_text": "" if already_acknowledged(report, case) else acknowledgement_text(report),
        "clocks": clocks,
        "acknowledge_clock": next(c for c in clocks if c.name == "acknowledge"),
        "project_zone": report.project.policy.calendar.timezone,
        "case_events": case_events(case.case_state),
        "case_state_words": case_state_words(case.case_state),
        "team": triage.team_of(report),
        "assignee_ids": set(case.assignees.values_list("pk", flat=True)) if case.pk else set(),
        "llm_risks": list(LlmRisk),
        "cwe_names": {c: cwe_name(c) for c in case.cwes},
        **_fix_context(report),
        **_panels(report, lambda panel: panel.on_section_pages),
        "embargo_action": reverse("report-embargo", args=[report.project.slug, report.number]),
        "release_refused": release_refusal(report) if report.quarantined else "",
        "next_states": sorted(t.value for (s, t) in RM_TRANSITIONS if s == RMState(report.rm_state)),
        "advisories": list(report.advisories.all()),
        "saved_replies": list(saved_replies_of(report.project)),
    }


# Each section of the case page: from which stage its work is due, and the stage that completes it.
SECTION_STAGES = {
    "acknowledgement": (Stage.RECEIVED, Stage.ACKNOWLEDGED),
    "decision": (Stage.RECEIVED, Stage.TRIAGED),
    "severity": (Stage.ACKNOWLEDGED, Stage.FIX_PLANNED),
    "fix": (Stage.TRIAGED, Stage.FIX_READY),
    "embargo": (Stage.FIX_PLANNED, Stage.EMBARGO_AGREED),
    "distributors": (Stage.EMBARGO_AGREED, Stage.PUBLISHED),
    "advisory": (Stage.FIX_READY, Stage.PUBLISHED),
    "closing": (Stage.PUBLISHED, Stage.CLOSED),
}


def section_states(stage: Stage) -> dict[str, str]:
    """done (summarized, can be reopened), current (open) or later (collapsed, says when it applies)."""
    now = STAGES.index(stage)

    def state(due: Stage, complete: Stage) -> str:
        if now >= STAGES.index(complete):
            return "done"
        return "current" if now >= STAGES.index(due) else "later"

    return {name: state(due, complete) for name, (due, complete) in SECTION_STAGES.items()}


def _panels(report: Report, shown: Callable[[hooks.CasePanel], bool]) -> dict[str, object]:
    """The other domains' sections (``hooks.case_panels``) that this page shows."""
    context: dict[str, object] = {}
    for panel in hooks.case_panels:
        if shown(panel):
            context |= panel.context(report)
    return context


def _label(name: str) -> str:
    try:
        return FIELD_LABELS[ReportField(name)]
    except ValueError:
        return name.replace("_", " ").capitalize()


def _conversation(report: Report, *, show_all: bool) -> dict[str, object]:
    """The latest messages of a long conversation, with a link to the rest (as long threads do)."""
    messages_of = Message.objects.filter(report=report).select_related("author")
    total = messages_of.count()
    if show_all or total <= CONVERSATION_TAIL:
        return {"conversation": list(messages_of), "conversation_hidden": 0}
    latest = list(messages_of.order_by("-created_at", "-pk")[:CONVERSATION_TAIL])
    return {"conversation": latest[::-1], "conversation_hidden": total - CONVERSATION_TAIL}


def _fix_context(report: Report) -> dict[str, object]:
    rows = backport_matrix(report)
    return {
        "affected_packages": report.affected_packages.all(),
        "backport_rows": rows,
        "unsupported_lines": unsupported_lines(report),
        "first_open_row": next((r for r in rows if r.status != BackportStatus.FIXED), None),
        "backport_statuses": BackportStatus.choices,
        "supported_lines": supported_releases(report.project),
        "fix_plan": fix_plan_of(report),
    }


EVENT_NAMES = {
    CaseEvent.VENDOR_AWARE: "Vendor aware",
    CaseEvent.FIX_READY: "Fix ready",
    CaseEvent.FIX_DEPLOYED: "Fix deployed",
    CaseEvent.PUBLIC_AWARE: "Public aware",
    CaseEvent.EXPLOIT_PUBLIC: "Exploit public",
    CaseEvent.ATTACKS_OBSERVED: "Attacks observed",
}
# Each Vultron case event in words, as it has or has not happened.
EVENT_WORDS = {
    CaseEvent.VENDOR_AWARE: ("the project knows", "the project does not know yet"),
    CaseEvent.FIX_READY: ("a fix is ready", "no fix is ready"),
    CaseEvent.FIX_DEPLOYED: ("the fix is deployed", "the fix is not deployed"),
    CaseEvent.PUBLIC_AWARE: ("the issue is public", "the issue is not public"),
    CaseEvent.EXPLOIT_PUBLIC: ("an exploit is public", "no exploit is public"),
    CaseEvent.ATTACKS_OBSERVED: ("attacks were seen", "no attacks seen"),
}


def case_events(notation: str) -> list[tuple[str, str, bool]]:
    """(letter, name, happened) for each Vultron case event, for the case page."""
    happened = CaseState.parse(notation).happened
    return [(event.value, EVENT_NAMES[event], event in happened) for event in CaseEvent]


def case_state_words(notation: str) -> str:
    """The case state as a sentence, never as Vultron's ``vfdpxa`` letters."""
    happened = CaseState.parse(notation).happened
    words = [EVENT_WORDS[e][0 if e in happened else 1] for e in CaseEvent]
    return "; ".join(words).capitalize() + "."
