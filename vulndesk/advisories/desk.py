"""The team's advisory pages: the list, the draft editor and its review, sharing and publication."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.views import reauthentication_needed
from vulndesk.advisories.access import access_advisory_for_team
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    do_revise_advisory,
    do_schedule_publication,
    do_share_draft_with_reporter,
    do_withdraw_advisory,
    draft_revision,
    embargo_end_ahead,
    latest_revision,
)
from vulndesk.advisories.content import AdvisoryContent, AdvisoryError
from vulndesk.advisories.document import CreditType, ReferenceType
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.embargo.models import EARLY_DISCLOSURE_REASONS, MIN_EARLY_NOTE, EarlyDisclosure
from vulndesk.intake.access import access_report_for_team
from vulndesk.projects.access import access_project


@login_required
@never_cache
def advisory_list(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_REPORT_READ)
    advisories = Advisory.objects.filter(project=project).select_related("report").order_by("-created_at")
    return render(request, "advisories/desk_list.html", {"project": project, "advisories": advisories})


@login_required
@require_POST
def draft_from_report(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Open the case's draft, or start one filled in from the case."""
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    advisory = Advisory.objects.filter(report=report).exclude(state=AdvisoryState.WITHDRAWN).first()
    if advisory is None:
        advisory = do_create_advisory(report.project, report=report, acting_user=user)
        messages.success(request, "A draft advisory was started from the case.")
    return redirect("advisory-edit", slug=slug, identifier=advisory.identifier)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str, identifier: str) -> HttpResponse:
    user = signed_in_user(request)
    advisory = access_advisory_for_team(user, slug, identifier, Permission.PROJECT_REPORT_READ)
    draft = draft_revision(advisory)
    problems: list[str] = []
    if request.method == "POST":
        access_advisory_for_team(user, slug, identifier, Permission.PROJECT_CASE_COORDINATE)
        content = content_from_form(request.POST)
        try:
            do_edit_draft(
                advisory,
                content,
                cve_id=request.POST.get("cve_id", ""),
                change_summary=request.POST.get("change_summary", ""),
                acting_user=user,
            )
        except AdvisoryError as exc:
            problems = exc.problems
        else:
            messages.success(
                request, "Draft saved. A reviewer needs to approve it before it can be published."
            )
            return redirect("advisory-edit", slug=slug, identifier=identifier)
    revision = draft or latest_revision(advisory)
    form = (
        request.POST
        if problems
        else form_from_content(AdvisoryContent.from_json(revision.content), advisory.cve_id)
    )
    context = {
        "project": advisory.project,
        "advisory": advisory,
        "revision": revision,
        "draft": draft,
        "form": form,
        "problems": problems,
        "credit_types": [t.value for t in CreditType],
        "reference_types": [t.value for t in ReferenceType],
        "published_revisions": advisory.revisions.filter(published_at__isnull=False).order_by("-number"),
        "embargo_end": embargo_end_ahead(advisory.report),
        "early_reasons": [(r.value, r.label) for r in EARLY_DISCLOSURE_REASONS],
        "min_early_note": MIN_EARLY_NOTE,
    }
    return render(request, "advisories/edit.html", context, status=400 if problems else 200)


def early_disclosure_from(form: QueryDict) -> EarlyDisclosure | None:
    """The early-disclosure choice of the publish form; None when the team made none."""
    reason = form.get("early_reason", "").strip()
    if not reason:
        return None
    known = {r.value: r for r in EARLY_DISCLOSURE_REASONS}
    if reason not in known:
        raise AdvisoryError(["early_disclosure.reason: choose one of the reasons offered"])
    return EarlyDisclosure(reason=known[reason], note=form.get("early_note", "").strip())


def content_from_form(form: QueryDict) -> AdvisoryContent:
    """Lists are written one per line: ``package range``, ``name | role``, ``url kind``."""
    return AdvisoryContent(
        title=form.get("title", "").strip(),
        summary=form.get("summary", "").strip(),
        details=form.get("details", "").strip(),
        affected=[{"package": p, "affected": r} for p, r in _pairs(form.get("affected", ""), " ")],
        cvss31_vector=form.get("cvss31_vector", "").strip(),
        cvss40_vector=form.get("cvss40_vector", "").strip(),
        cwes=form.get("cwes", "").replace(",", " ").split(),
        credits=[{"name": n, "type": t or "finder"} for n, t in _pairs(form.get("credits", ""), "|")],
        mitigations=form.get("mitigations", "").strip(),
        references=[
            {"url": u, "type": (t or "WEB").upper()} for u, t in _pairs(form.get("references", ""), " ")
        ],
    )


def _pairs(text: str, separator: str) -> list[tuple[str, str]]:
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if line:
            first, _, second = line.partition(separator)
            pairs.append((first.strip(), second.strip()))
    return pairs


def form_from_content(content: AdvisoryContent, cve_id: str) -> dict[str, str]:
    return {
        "title": content.title,
        "summary": content.summary,
        "details": content.details,
        "cve_id": cve_id,
        "affected": "\n".join(f"{a['package']} {a['affected']}" for a in content.affected),
        "cvss31_vector": content.cvss31_vector,
        "cvss40_vector": content.cvss40_vector,
        "cwes": " ".join(content.cwes),
        "credits": "\n".join(f"{c['name']} | {c['type']}" for c in content.credits),
        "mitigations": content.mitigations,
        "references": "\n".join(f"{r['url']} {r.get('type', 'WEB')}" for r in content.references),
    }


ACTIONS = {"approve", "share", "schedule", "revise", "withdraw"}


@login_required
@require_POST
def act(request: HttpRequest, slug: str, identifier: str, action: str) -> HttpResponse:
    """Review, share with the reporter, schedule, revise or withdraw: one POST each."""
    user = signed_in_user(request)
    permission = (
        Permission.PROJECT_ADVISORY_PUBLISH
        if action in {"schedule", "withdraw"}
        else Permission.PROJECT_CASE_COORDINATE
    )
    advisory = access_advisory_for_team(user, slug, identifier, permission)
    if action not in ACTIONS:
        return redirect("advisory-edit", slug=slug, identifier=identifier)
    try:
        done = _act(advisory, action, request.POST, user)
    except AdvisoryError as exc:
        messages.error(request, "Not done: " + "; ".join(exc.problems) + ".")
    else:
        messages.success(request, done)
    return redirect("advisory-edit", slug=slug, identifier=identifier)


def _act(advisory: Advisory, action: str, form: QueryDict, user: User) -> str:
    if action == "approve":
        do_approve_draft(advisory, acting_user=user)
        return "Approved: the draft can be published."
    if action == "share":
        do_share_draft_with_reporter(advisory, acting_user=user)
        return "The reporter can read the draft on their tracking page; they were told by mail."
    if action == "schedule":
        at = _utc(form.get("publish_at", ""))
        do_schedule_publication(advisory, at, acting_user=user)
        return f"Publication scheduled for {at:%Y-%m-%d %H:%M} UTC." if at else "The schedule is cancelled."
    if action == "revise":
        do_revise_advisory(advisory, acting_user=user)
        return "A new revision is open for editing; the published text stays until it is published."
    do_withdraw_advisory(advisory, form.get("reason", ""), acting_user=user)
    return "Withdrawn; subscribers were told why."


def _utc(text: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        return dt.datetime.fromisoformat(text.strip()).replace(tzinfo=dt.UTC)
    except ValueError:
        raise AdvisoryError(
            [f"publish_at: {text!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)"]
        ) from None


@login_required
@require_POST
def publish(request: HttpRequest, slug: str, identifier: str) -> HttpResponse:
    user = signed_in_user(request)
    advisory = access_advisory_for_team(user, slug, identifier, Permission.PROJECT_ADVISORY_PUBLISH)
    confirm = reauthentication_needed(request, reverse("advisory-edit", args=[slug, identifier]))
    if confirm is not None:
        return confirm
    try:
        early = early_disclosure_from(request.POST)
        do_publish_advisory(advisory, acting_user=user, early_disclosure=early)
    except AdvisoryError as exc:
        messages.error(request, "Not published: " + "; ".join(exc.problems) + ".")
    else:
        messages.success(
            request, "Published: the advisory is public, subscribers and the reporter are being told."
        )
    return redirect("advisory-edit", slug=slug, identifier=identifier)
