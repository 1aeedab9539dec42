"""The embargo on the team's report page and on the reporter's tracking page: plain POST forms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.actions.fixes import fix_plan_of
from vulndesk.cases.decisions import case_form
from vulndesk.cases.models import Triage
from vulndesk.embargo.actions import (
    EmbargoError,
    do_accept_proposal,
    do_counter_proposal,
    do_exit_embargo,
    do_propose_embargo,
    do_reject_proposal,
    do_set_embargo_end,
    embargo_of,
)
from vulndesk.embargo.models import (
    MANUAL_EXIT_REASONS,
    EmbargoProposal,
    ExitReason,
    ProposalStatus,
    ProposerKind,
)
from vulndesk.embargo.rules import latest_end, suggested_end
from vulndesk.intake.access import access_report_by_tracking_token, tracking_form
from vulndesk.intake.models import Report
from vulndesk.web.forms import datetime_local, flash_outcome


def embargo_context(report: Report, viewer: ProposerKind = ProposerKind.TEAM) -> dict[str, object]:
    """What both pages show: the state, the end, the bounds and the proposals.

    ``open_proposals`` are the open proposals this viewer may answer (the counter form answers the
    first): the team answers any; the reporter only the team's (a distributor's waits for the team).
    """
    embargo = embargo_of(report)
    proposals = list(embargo.proposals.select_related("proposed_by")) if embargo.pk else []
    open_ = [p for p in proposals if p.status == ProposalStatus.OPEN]
    answerable = (
        open_ if viewer == ProposerKind.TEAM else [p for p in open_ if p.proposer_kind == ProposerKind.TEAM]
    )
    policy = report.project.policy
    triage = Triage.objects.filter(report=report).first()
    return {
        "embargo": embargo,
        "proposals": proposals,
        "open_proposals": answerable,
        "project_zone": policy.calendar.timezone,
        "latest_end": latest_end(policy, report.received_at),
        "suggested_end": suggested_end(
            policy,
            report.received_at,
            fix_available_at=fix_plan_of(report).fix_available_at,
            rating=triage.rating if triage else "",
        ),
        "exit_reasons": [(r.value, r.label) for r in MANUAL_EXIT_REASONS],
    }


def _ends_at(form: QueryDict, zone_name: str) -> dt.datetime:
    """A datetime-local value, read in the zone the form names (the project's, or UTC)."""
    zone = ZoneInfo(zone_name) if form.get("zone") == "project" else dt.UTC
    text = form.get("ends_at", "").strip()
    return datetime_local(text, zone, lambda t: EmbargoError(f"{t!r} is not a date and time"))


def _proposal(report: Report, form: QueryDict) -> EmbargoProposal:
    found = EmbargoProposal.objects.filter(
        embargo__report=report, pk=form.get("proposal", "0") or "0"
    ).first()
    if found is None:
        raise EmbargoError("that proposal does not exist")
    return found


@case_form(Permission.PROJECT_CASE_COORDINATE, anchor="embargo")
def team_embargo(request: HttpRequest, report: Report, user: User) -> None:
    # Each action says what it did.
    flash_outcome(
        request,
        lambda: _team_act(report, request.POST, user),
        refused=EmbargoError,
        not_done="Embargo not changed",
        done=str,
    )


def _team_act(report: Report, form: QueryDict, user: User) -> str:
    action, zone = form.get("action", ""), report.project.policy.calendar.timezone
    team = ProposerKind.TEAM
    if action == "propose":
        do_propose_embargo(
            report, _ends_at(form, zone), proposer_kind=team, acting_user=user, note=form.get("note", "")
        )
        return "Proposed; the reporter was asked."
    if action == "set":
        do_set_embargo_end(report, _ends_at(form, zone), acting_user=user, note=form.get("note", ""))
        return "The embargo end is set (the team's final say)."
    if action == "accept":
        do_accept_proposal(_proposal(report, form), acting_user=user, accepted_by=team)
        return "Accepted: the embargo is active."
    if action == "reject":
        do_reject_proposal(
            _proposal(report, form), acting_user=user, rejected_by=team, reason=form.get("note", "")
        )
        return "Rejected."
    if action == "counter":
        do_counter_proposal(
            _proposal(report, form), _ends_at(form, zone), acting_user=user, proposer_kind=team
        )
        return "Countered; the other side was asked."
    if action == "exit":
        do_exit_embargo(report, reason=_manual_exit_reason(form), acting_user=user)
        return "The embargo has ended; the team and the reporter were told."
    raise EmbargoError("unknown action")


def _manual_exit_reason(form: QueryDict) -> ExitReason:
    """Ending by hand gives one of its own reasons: "as agreed" and the early-publication
    reasons are recorded only by publication itself."""
    text = form.get("reason", ExitReason.ABANDONED)
    reason = next((r for r in MANUAL_EXIT_REASONS if r.value == text), None)
    if reason is None:
        raise EmbargoError("choose why the embargo ends")
    return reason


@tracking_form("embargo")
def reporter_embargo(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's side, by their tracking link: propose, accept, reject or counter."""
    report = access_report_by_tracking_token(token)
    reporter, action = ProposerKind.REPORTER, request.POST.get("action", "")
    try:
        if action == "propose":
            do_propose_embargo(
                report,
                _ends_at(request.POST, report.project.policy.calendar.timezone),
                proposer_kind=reporter,
                acting_user=None,
            )
        elif action == "accept":
            do_accept_proposal(_proposal(report, request.POST), acting_user=None, accepted_by=reporter)
        elif action == "reject":
            do_reject_proposal(_proposal(report, request.POST), acting_user=None, rejected_by=reporter)
        elif action == "counter":
            do_counter_proposal(
                _proposal(report, request.POST),
                _ends_at(request.POST, report.project.policy.calendar.timezone),
                acting_user=None,
                proposer_kind=reporter,
            )
        else:
            raise Http404
    except EmbargoError as exc:
        messages.error(request, f"Not done: {exc}.")
    else:
        messages.success(request, "Done; the security team was told.")
    return redirect(reverse("tracking", args=[token]) + "#embargo")
