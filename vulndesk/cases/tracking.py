"""The reporter's private tracking page: their case as it stands, the conversation, and replying.

It works without JavaScript. The domains above cases add what they know of the case (the embargo,
the advisory, the distributors told) through ``hooks.tracking_panels``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vulndesk.cases import hooks
from vulndesk.cases.actions import do_post_reporter_reply
from vulndesk.cases.models import Message, Triage, Via, Visibility
from vulndesk.cases.sla import reporter_commitment
from vulndesk.cases.wording import reporter_status_of
from vulndesk.intake.access import access_report_by_tracking_token
from vulndesk.intake.actions import do_replace_tracking_link
from vulndesk.intake.answers import answers_in_policy_order
from vulndesk.intake.emails import tracking_url
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError
from vulndesk.intake.throttle import Throttled, check_and_count
from vulndesk.intake.views import throttled_page

LINK_REPLACEMENTS_PER_HOUR = 3


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
            return throttled_page(request, {"policy": report.project.policy, "project": report.project}, exc)
        new_token = do_replace_tracking_link(report, acting_user=None)
        return render(
            request,
            "cases/link_replaced.html",
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
        "cases/tracking.html",
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
            **_panels(report, token),
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


def _panels(report: Report, token: str) -> dict[str, object]:
    context: dict[str, object] = {}
    for panel in hooks.tracking_panels:
        context |= panel.context(report, token)
    return context
