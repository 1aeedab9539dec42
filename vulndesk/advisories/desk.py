"""The team's advisory pages: the list, the draft editor and its review, sharing and publication."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

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
from vulndesk.advisories.actions.review import do_request_review, possible_reviewers
from vulndesk.advisories.content import AdvisoryContent, AdvisoryError
from vulndesk.advisories.document import CreditType, ReferenceType, SeverityRating
from vulndesk.advisories.documents import document, draft_document
from vulndesk.advisories.editor import EditorForm, content_from_form, form_from_content, form_from_post
from vulndesk.advisories.exports.published import project_context
from vulndesk.advisories.models import Advisory, AdvisoryRevision, AdvisoryState
from vulndesk.advisories.publication_check import PublicationCheck, check_publication
from vulndesk.advisories.revision_diff import diff_contents
from vulndesk.cases.severity import cwe_name
from vulndesk.embargo.models import EARLY_DISCLOSURE_REASONS, MIN_EARLY_NOTE, EarlyDisclosure
from vulndesk.intake.access import access_report_for_team
from vulndesk.projects.access import access_project
from vulndesk.web.forms import optional_datetime_local


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
    form = None
    if request.method == "POST":
        access_advisory_for_team(user, slug, identifier, Permission.PROJECT_CASE_COORDINATE)
        form = form_from_post(request.POST)
        if "add_row" in request.POST:  # without JavaScript: the same form again, one row longer
            form = form.with_another_row(request.POST["add_row"])
        else:
            problems = _save_draft(advisory, form, user)
            if not problems:
                messages.success(
                    request, "Draft saved. A reviewer needs to approve it before it can be published."
                )
                return redirect("advisory-edit", slug=slug, identifier=identifier)
    revision = draft or latest_revision(advisory)
    if form is None:
        form = form_from_content(AdvisoryContent.from_json(revision.content), advisory.cve_id)
    context = {
        **_editor_context(advisory, revision),
        "draft": draft,
        "form": form,
        "problems": problems,
        "embargo_end": embargo_end_ahead(advisory.report),
        "early_reasons": [(r.value, r.label) for r in EARLY_DISCLOSURE_REASONS],
        "min_early_note": MIN_EARLY_NOTE,
        "publication_check": publication_check(advisory, revision) if draft else None,
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


def _save_draft(advisory: Advisory, form: EditorForm, user: User) -> list[str]:
    """The problems that kept the draft from being saved; none when it was saved."""
    try:
        do_edit_draft(
            advisory,
            content_from_form(form),
            cve_id=form.fields["cve_id"],
            change_summary=form.fields["change_summary"],
            acting_user=user,
        )
    except AdvisoryError as exc:
        return exc.problems
    return []


def _editor_context(advisory: Advisory, revision: AdvisoryRevision) -> dict[str, object]:
    return {
        "project": advisory.project,
        "advisory": advisory,
        "revision": revision,
        "credit_types": [(t.value, t.value.replace("_", " ").capitalize()) for t in CreditType],
        "reference_types": [(t.value, t.value.capitalize()) for t in ReferenceType],
        "severity_choices": [("", "None (a CVSS vector rates it)")]
        + [(s.value, s.value.capitalize()) for s in SeverityRating],
        "published_revisions": advisory.revisions.filter(published_at__isnull=False).order_by("-number"),
        "revision_count": advisory.revisions.count(),
        "reviewers": possible_reviewers(advisory),
    }


def publication_check(advisory: Advisory, revision: AdvisoryRevision) -> PublicationCheck:
    """What approval and the exports would say of ``revision`` if it were published now."""
    at = advisory.publish_at or timezone.now()
    return check_publication(
        AdvisoryContent.from_json(revision.content),
        draft_document(revision, at=at),
        project_context(advisory.project),
    )


@login_required
@never_cache
@require_safe
def preview(request: HttpRequest, slug: str, identifier: str) -> HttpResponse:
    """The public page as it would read once published, for the team only."""
    user = signed_in_user(request)
    advisory = access_advisory_for_team(user, slug, identifier, Permission.PROJECT_REPORT_READ)
    revision = draft_revision(advisory) or latest_revision(advisory)
    if revision.published_at is None:
        doc = draft_document(revision, at=advisory.publish_at or timezone.now())
    else:
        doc = document(revision)
    context = {
        "project": advisory.project,
        "advisory": advisory,
        "doc": doc,
        "withdrawn": advisory.state == AdvisoryState.WITHDRAWN,
        "cwe_names": {cwe: cwe_name(cwe) for cwe in doc.cwes},
        "preview": revision,
        "publication_check": publication_check(advisory, revision) if revision.published_at is None else None,
    }
    response = render(request, "advisories/page.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@never_cache
@require_safe
def diff(request: HttpRequest, slug: str, identifier: str) -> HttpResponse:
    """Two revisions field by field: by default the latest against the one before it."""
    user = signed_in_user(request)
    advisory = access_advisory_for_team(user, slug, identifier, Permission.PROJECT_REPORT_READ)
    revisions = {r.number: r for r in advisory.revisions.order_by("number")}
    latest = max(revisions)
    new = _revision_number(request.GET.get("to"), latest)
    old = _revision_number(request.GET.get("from"), max(new - 1, 1))
    if old not in revisions or new not in revisions:
        raise Http404
    fields = diff_contents(
        AdvisoryContent.from_json(revisions[old].content), AdvisoryContent.from_json(revisions[new].content)
    )
    context = {
        "project": advisory.project,
        "advisory": advisory,
        "revisions": list(revisions.values()),
        "old": revisions[old],
        "new": revisions[new],
        "changed": [f for f in fields if f.changed],
        "unchanged": [f.label for f in fields if not f.changed],
    }
    return render(request, "advisories/diff.html", context)


def _revision_number(text: str | None, default: int) -> int:
    if not text:
        return default
    if not text.isdigit():
        raise Http404
    return int(text)


ACTIONS = {"approve", "request-review", "share", "schedule", "revise", "withdraw"}


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
        if action == "approve":
            _warn_of_exports(request, advisory)
    return redirect("advisory-edit", slug=slug, identifier=identifier)


def _warn_of_exports(request: HttpRequest, advisory: Advisory) -> None:
    """Approval does not wait for the exports, but the reviewer hears what they would refuse."""
    warnings = publication_check(advisory, latest_revision(advisory)).export_warnings
    if warnings:
        listed = "; ".join(str(w) for w in warnings)
        messages.warning(request, f"Once published, some exports will be refused: {listed}.")


def _act(advisory: Advisory, action: str, form: QueryDict, user: User) -> str:
    if action == "approve":
        do_approve_draft(advisory, acting_user=user)
        return "Approved: the draft can be published."
    if action == "request-review":
        return _request_review(advisory, form.get("reviewer", ""), user)
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


def _request_review(advisory: Advisory, reviewer_id: str, user: User) -> str:
    reviewer = User.objects.filter(pk=int(reviewer_id)).first() if reviewer_id.isdigit() else None
    if reviewer is None:
        raise AdvisoryError(["reviewer: choose the member of the team to ask"])
    do_request_review(advisory, reviewer, acting_user=user)
    return f"{reviewer} was asked to review the draft; they hear of it by mail."


def _utc(text: str) -> dt.datetime | None:
    return optional_datetime_local(text, dt.UTC, _not_a_moment)


def _not_a_moment(text: str) -> AdvisoryError:
    return AdvisoryError([f"publish_at: {text!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)"])


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
