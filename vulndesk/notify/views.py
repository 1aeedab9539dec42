"""The outbox as administrators see it: what is waiting, and what failed for good. No contents."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.notify.models import OutboundEmail, OutboundStatus, OutboundWebhook, WebhookEvent
from vulndesk.notify.webhook_address import WebhookError
from vulndesk.notify.webhooks import do_add_webhook, do_remove_webhook
from vulndesk.projects.access import access_project

OUTBOX_PAGE = 200


@login_required
@never_cache
def outbox(request: HttpRequest) -> HttpResponse:
    if not signed_in_user(request).is_admin:
        raise Http404
    pending = OutboundEmail.objects.exclude(status=OutboundStatus.SENT).select_related("project")
    hooks = OutboundWebhook.objects.exclude(status=OutboundStatus.SENT).select_related("webhook__project")
    return render(
        request,
        "notify/outbox.html",
        {
            "failed": pending.filter(status=OutboundStatus.FAILED).order_by("-created_at")[:OUTBOX_PAGE],
            "waiting": pending.exclude(status=OutboundStatus.FAILED).order_by("next_attempt_at")[
                :OUTBOX_PAGE
            ],
            "failed_webhooks": hooks.filter(status=OutboundStatus.FAILED).order_by("-created_at")[
                :OUTBOX_PAGE
            ],
            "waiting_webhooks": hooks.exclude(status=OutboundStatus.FAILED).order_by("next_attempt_at")[
                :OUTBOX_PAGE
            ],
        },
    )


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
