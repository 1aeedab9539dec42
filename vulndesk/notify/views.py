"""The outbox as administrators see it (no addresses, no contents); a project's webhooks page is
``projects/webhook_views.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vulndesk.notify.access import access_outbound_email, access_outbound_webhook, outbox_reader
from vulndesk.notify.actions import RetryError, do_retry_delivery, retry_terms
from vulndesk.notify.models import OutboundEmail, OutboundStatus, OutboundWebhook
from vulndesk.notify.outbox import OutboxFilter, known_kinds, mail_page, project_choices, webhook_rows
from vulndesk.web.forms import flash_outcome

if TYPE_CHECKING:
    from vulndesk.accounts.models import User

# Each outbox's door, by the name its retry URL gives (vulndesk/urls.py).
_DOORS: dict[str, Callable[[uuid.UUID, User], OutboundEmail | OutboundWebhook]] = {
    "mail": access_outbound_email,
    "webhooks": access_outbound_webhook,
}


@login_required
@never_cache
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """Every mail and webhook delivery, newest first, with filters; failed ones can be retried."""
    outbox_reader(request)
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
            "projects": project_choices(),
        },
    )


@login_required
@require_POST
def retry(request: HttpRequest, uid: uuid.UUID, outbox: str) -> HttpResponse:
    """A mail or a webhook delivery that failed for good, queued again."""
    user = outbox_reader(request)
    row = _DOORS[outbox](uid, user)
    flash_outcome(
        request,
        lambda: do_retry_delivery(row, acting_user=user),
        refused=RetryError,
        not_done="Not retried",
        done=f"The {retry_terms(row).name} is queued again.",
    )
    return _back_to_outbox(request)


def _back_to_outbox(request: HttpRequest) -> HttpResponse:
    # Back to the same filtered view; only the filter's own keys are carried, never a free URL.
    chosen = OutboxFilter.from_query(request.POST)
    query = chosen.as_query()
    return redirect(reverse("outbox") + (f"?{query}" if query else ""))
