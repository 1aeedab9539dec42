"""The reporter's pages: the report form and the private tracking page. Both work without JavaScript."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vulndesk.advisories.documents import for_reporter
from vulndesk.cases.actions import do_post_reporter_reply
from vulndesk.cases.models import Message, Triage, Via, Visibility
from vulndesk.cases.sla import reporter_commitment
from vulndesk.cases.wording import reporter_status_of
from vulndesk.embargo.models import ProposerKind
from vulndesk.embargo.views import embargo_context
from vulndesk.intake.access import access_report_by_tracking_token
from vulndesk.intake.actions import Provenance, do_receive_report, do_replace_tracking_link
from vulndesk.intake.answers import answers_in_policy_order
from vulndesk.intake.emails import acknowledgement_due, tracking_url
from vulndesk.intake.forms import ReportForm
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import SubmissionError
from vulndesk.intake.throttle import Throttled, check_and_count
from vulndesk.projects.access import access_public_project
from vulndesk.projects.rendering import policy_context
from vulndesk.web.client import client_address

LINK_REPLACEMENTS_PER_HOUR = 3


@never_cache
@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    context = policy_context(project)
    if request.method == "POST":
        form = ReportForm(project.policy, request.POST, request.FILES)
        if form.is_valid():
            try:
                received = do_receive_report(
                    project,
                    form.to_submission(),
                    channel=Channel.WEB,
                    acting_user=None,
                    provenance=Provenance(
                        idempotency_key=f"form:{form.cleaned_data['form_token']}",
                        client_address=client_address(request),
                    ),
                )
            except Throttled as exc:
                return _throttled(request, context, exc)
            except SubmissionError as exc:
                for name, problem in exc.problems.items():
                    form.add_error(name if name in form.fields else None, f"{problem}.")
            else:
                return render(
                    request,
                    "intake/received.html",
                    {
                        **context,
                        "report": received.report,
                        "tracking_url": tracking_url(received.tracking_token)
                        if received.tracking_token
                        else None,
                        "acknowledge_by": acknowledgement_due(received.report),
                    },
                )
        status = 400
    else:
        form = ReportForm(project.policy, initial={"form_token": secrets.token_urlsafe(24)})
        status = 200
    return render(request, "intake/report_form.html", {**context, "form": form}, status=status)


def _throttled(request: HttpRequest, context: dict[str, object], exc: Throttled) -> HttpResponse:
    response = render(request, "intake/throttled.html", {**context, "reason": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after_seconds)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    report = access_report_by_tracking_token(token)
    reply_error = ""
    if request.method == "POST" and request.POST.get("action") == "replace_link":
        # Whoever holds a leaked link could otherwise lock the reporter out, or flood their inbox.
        try:
            check_and_count("replace-link", str(report.uid), LINK_REPLACEMENTS_PER_HOUR)
        except Throttled as exc:
            return _throttled(request, {"policy": report.project.policy, "project": report.project}, exc)
        new_token = do_replace_tracking_link(report, acting_user=None)
        return render(
            request,
            "intake/link_replaced.html",
            {"report": report, "policy": report.project.policy, "tracking_url": tracking_url(new_token)},
        )
    status, retry_after = 200, 0
    if request.method == "POST":
        try:
            do_post_reporter_reply(report, request.POST.get("body", ""), via=Via.WEB, acting_user=None)
        except SubmissionError as exc:
            reply_error, status = exc.problems.get("body", "could not be sent"), 400
        except Throttled as exc:
            reply_error, status, retry_after = f"was not sent: {exc}", 429, exc.retry_after_seconds
        else:
            messages.success(request, "Your message was sent to the team.")
            return redirect("tracking", token=token)
    response = render(
        request,
        "intake/tracking.html",
        {
            "report": report,
            "token": token,
            "status": reporter_status_of(report),
            "answers": answers_in_policy_order(report),
            "project": report.project,
            "policy": report.project.policy,
            "commitment": reporter_commitment(report),
            "original": _followed_original(report),
            "base_url": settings.BASE_URL,
            "conversation": Message.objects.filter(
                report=report, visibility=Visibility.SHARED
            ).select_related("author"),
            "reply_error": reply_error,
            # A refused reply stays in the box, so the reporter can send it later.
            "reply_body": request.POST.get("body", "") if reply_error else "",
            "advisory": for_reporter(report.pk),
            **embargo_context(report, ProposerKind.REPORTER),
            "embargo_action": reverse("tracking-embargo", args=[token]),
            "leak_action": reverse("tracking-leak", args=[token]),
            "distributors_told": report.distributor_shares.count(),
        },
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    # The link is the reporter's key: never send it to another site in a Referer header.
    # (same-origin, not no-referrer: browsers then send "Origin: null", which fails CSRF.)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _followed_original(report: Report) -> Report | None:
    triage = (
        Triage.objects.filter(report=report, follows_original=True).select_related("duplicate_of").first()
    )
    return triage.duplicate_of if triage else None
