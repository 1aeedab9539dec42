"""The evidence panel of a case, and the "needs evidence" page of a project's open reports.

Nothing is rejected for lack of evidence: the page lists open reports without reproduction steps
or a proof of concept, and one press asks the reporter for what is missing, through the ordinary
request for information (whose clock follows the policy's ``sla.needs_info_days``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.actions.triage import do_request_info
from vulndesk.cases.evidence import Evidence, evidence_of, sender_history, version_claims
from vulndesk.cases.models import InfoRequest
from vulndesk.cases.saved_replies import SavedReplyError, render_saved_reply, saved_replies_of
from vulndesk.cases.vultron import RMState
from vulndesk.intake.access import access_report_for_team
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError
from vulndesk.projects.access import access_project
from vulndesk.projects.models import Project

MAX_LISTED = 100  # the oldest first: a page the team works through, not an archive
# Reports still waiting on a triage decision: later, the team has decided with what it had.
UNDECIDED = (RMState.RECEIVED.value, RMState.VALID.value)


def evidence_context(report: Report) -> dict[str, object]:
    """The case page's evidence panel: what the report carries, and its sender's record here."""
    evidence = evidence_of(report)
    return {
        "evidence": evidence,
        "version_claims": version_claims(report, evidence),
        "sender_history": sender_history(report),
    }


def lacking_evidence(project: Project) -> QuerySet[Report]:
    """Open, undecided reports without steps or a proof of concept, not already asked."""
    return (
        Report.objects.filter(
            project=project,
            quarantined=False,
            rm_state__in=UNDECIDED,
            evidence__needs_evidence=True,
        )
        .exclude(pk__in=InfoRequest.objects.filter(answered_at__isnull=True).values("report_id"))
        .order_by("received_at", "pk")
    )


def request_text(report: Report, evidence: Evidence) -> str:
    """The request for the missing items, in the team's words (a saved reply can replace it)."""
    wanted = "\n".join(f"- {item}" for item in evidence.missing)
    return (
        f"Thank you for report #{report.number}. To assess it, the team needs:\n\n{wanted}\n\n"
        "Please add them in a reply. Nothing is decided until then."
    )


@login_required
@never_cache
def needs_evidence(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_REPORT_TRIAGE)
    reports = list(lacking_evidence(project)[: MAX_LISTED + 1])
    rows = [(report, evidence_of(report).missing) for report in reports[:MAX_LISTED]]
    return render(
        request,
        "cases/needs_evidence.html",
        {
            "project": project,
            "rows": rows,
            "more": len(reports) > MAX_LISTED,
            "saved_replies": saved_replies_of(project),
            "needs_info_days": project.policy.sla.needs_info_days,
        },
    )


@login_required
@require_POST
def request_evidence(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Ask the reporter for the missing items, in the default words or a chosen saved reply."""
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    evidence = evidence_of(report)
    if not evidence.missing:
        messages.info(request, f"Report #{number} already has steps and a proof of concept.")
        return redirect("needs-evidence", slug=slug)
    try:
        do_request_info(report, _request_words(request, report, evidence), acting_user=user)
    except (SavedReplyError, SubmissionError) as exc:
        messages.error(request, f"Nothing was sent for report #{number}: {exc}.")
    else:
        messages.success(request, f"Report #{number}: the reporter was asked for the missing items.")
    return redirect("needs-evidence", slug=slug)


def _request_words(request: HttpRequest, report: Report, evidence: Evidence) -> str:
    chosen = request.POST.get("saved_reply", "")
    reply = saved_replies_of(report.project).filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if chosen and reply is None:
        raise SavedReplyError("that saved reply does not exist in this project")
    return render_saved_reply(reply, report) if reply is not None else request_text(report, evidence)
