"""The report form, which works without JavaScript (the reporter's tracking page: ``cases/tracking.py``)."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vulndesk.intake.actions import Provenance, do_receive_report
from vulndesk.intake.emails import acknowledgement_due, tracking_url
from vulndesk.intake.forms import ReportForm
from vulndesk.intake.models import Channel
from vulndesk.intake.submission import SubmissionError
from vulndesk.intake.throttle import Throttled
from vulndesk.projects.access import access_public_project
from vulndesk.projects.rendering import policy_context
from vulndesk.web.client import client_address


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
                return throttled_page(request, context, exc)
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


def throttled_page(request: HttpRequest, context: dict[str, object], exc: Throttled) -> HttpResponse:
    response = render(request, "intake/throttled.html", {**context, "reason": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after_seconds)
    return response
