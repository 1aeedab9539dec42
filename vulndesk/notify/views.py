"""The outbox as administrators see it (no addresses, no contents), and a project's webhooks."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.notify.access import access_outbound_email, access_outbound_webhook
from vulndesk.notify.actions import RetryError, do_retry_email, do_retry_webhook
from vulndesk.notify.models import OutboundStatus, WebhookEvent
from vulndesk.notify.outbox import OutboxFilter, known_kinds, mail_page, webhook_rows
from vulndesk.notify.webhook_address import WebhookError
from vulndesk.notify.webhooks import do_add_webhook, do_remove_webhook
from vulndesk.projects.access import access_project
from vulndesk.projects.models import Project


@login_required
@never_cache
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """Every mail and webhook delivery, newest first, with filters; failed ones can be retried."""
    if not signed_in_user(request).is_admin:
        raise Http404
    chosen = OutboxFilter.from_query(request.GET)
    page, rows = mail_page(chosen, request.GET.get("page"))
    return render(
        request,
        "notify/outbox.html",
        {
            "chosen": chosen,
            "query": chosen.as_query(),
            "page": page,
            "rows": rows,
            "webhooks": webhook_rows(chosen),
            "statuses": OutboundStatus.choices,
            "kinds": known_kinds(),
            "projects": Project.objects.order_by("name").only("slug", "name"),
        },
    )


@login_required
@require_POST
def retry_email(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    mail = access_outbound_email(uid, user)
    try:
        do_retry_email(mail, acting_user=user)
    except RetryError as exc:
        messages.error(request, f"Not retried: {exc}.")
    else:
        messages.success(request, f"The {mail.kind} mail is queued again.")
    return _back_to_outbox(request)


@login_required
@require_POST
def retry_webhook(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    delivery = access_outbound_webhook(uid, user)
    try:
        do_retry_webhook(delivery, acting_user=user)
    except RetryError as exc:
        messages.error(request, f"Not retried: {exc}.")
    else:
        messages.success(request, f"The {delivery.event} delivery is queued again.")
    return _back_to_outbox(request)


def _back_to_outbox(request: HttpRequest) -> HttpResponse:
    # Back to the same filtered view; only the filter's own keys are carried, never a free URL.
    chosen = OutboxFilter.from_query(request.POST)
    query = chosen.as_query()
    return redirect(reverse("outbox") + (f"?{query}" if query else ""))


@login_required
@never_cache
def project_webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    """A project's webhooks (administrators): add one (its secret shown once), remove one."""
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_POLICY_EDIT)
    secret, problem = "", ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            try:
                _webhook, secret = do_add_webhook(
                    project, request.POST.get("url", ""), request.POST.getlist("events"), acting_user=user
                )
            except WebhookError as exc:
                problem = str(exc)
        elif action == "remove":
            webhook = project.webhooks.filter(pk=request.POST.get("webhook", "0") or "0").first()
            if webhook is None:
                raise Http404
            do_remove_webhook(webhook, acting_user=user)
            messages.success(request, "Webhook removed.")
            return redirect("project-webhooks", slug=slug)
    webhooks = [
        (webhook, webhook.deliveries.order_by("-created_at")[:5]) for webhook in project.webhooks.all()
    ]
    return render(
        request,
        "notify/webhooks.html",
        {
            "project": project,
            "webhooks": webhooks,
            "events": WebhookEvent.choices,
            "secret": secret,
            "problem": problem,
        },
        status=422 if problem else 200,
    )
