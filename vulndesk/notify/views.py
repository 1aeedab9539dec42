"""The outbox as administrators see it: what is waiting, and what failed for good. No contents."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.notify.models import OutboundEmail, OutboundStatus

OUTBOX_PAGE = 200


@login_required
@never_cache
def outbox(request: HttpRequest) -> HttpResponse:
    if not signed_in_user(request).is_admin:
        raise Http404
    pending = OutboundEmail.objects.exclude(status=OutboundStatus.SENT).select_related("project")
    return render(
        request,
        "notify/outbox.html",
        {
            "failed": pending.filter(status=OutboundStatus.FAILED).order_by("-created_at")[:OUTBOX_PAGE],
            "waiting": pending.exclude(status=OutboundStatus.FAILED).order_by("next_attempt_at")[
                :OUTBOX_PAGE
            ],
        },
    )
