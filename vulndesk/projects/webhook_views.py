"""A project's webhooks page (administrators): add one (its secret shown once), remove one.

The outbox that delivers them is ``notify/``; the page is the project's, behind its door."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.notify.actions import do_add_webhook, do_remove_webhook
from vulndesk.notify.models import WebhookEvent
from vulndesk.notify.webhook_address import WebhookError
from vulndesk.projects.access import access_project


@login_required
@never_cache
def project_webhooks(request: HttpRequest, slug: str) -> HttpResponse:
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
        "projects/webhooks.html",
        {
            "project": project,
            "webhooks": webhooks,
            "events": WebhookEvent.choices,
            "secret": secret,
            "problem": problem,
        },
        status=422 if problem else 200,
    )
