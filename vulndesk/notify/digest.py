"""The daily digest: one mail a day per person with the notices they chose to read that way.

A worker task runs at every hour (it re-enqueues itself; ``vulndesk worker`` starts the chain).
Whoever has notices waiting and whose own day has reached ``DIGEST_HOUR`` gets one mail; the
``Digest`` row, unique per person and local day, makes a second run that day (another worker, a
retry) send nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from vulndesk.notify.actions import Email, queue_email
from vulndesk.notify.models import Digest, DigestItem

if TYPE_CHECKING:
    from vulndesk.accounts.models import User

DIGEST_HOUR = 8  # in the person's timezone: the digest is there when the working day starts
RUN_EVERY = dt.timedelta(hours=1)


@task()
def daily_digests() -> str:
    sent = send_due_digests()
    _queue_next(run_after=timezone.now() + RUN_EVERY)
    return f"{sent} digests"


def ensure_digests_scheduled() -> None:
    """Start the chain unless a run is already waiting (called when a worker starts)."""
    _queue_next(run_after=None)


def _queue_next(run_after: dt.datetime | None) -> None:
    with transaction.atomic():
        waiting = DBTaskResult.objects.filter(task_path=daily_digests.module_path, status="READY")
        if not waiting.exists():
            (daily_digests.using(run_after=run_after) if run_after else daily_digests).enqueue()


def zone_of(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def send_due_digests(now: dt.datetime | None = None) -> int:
    moment = now or timezone.now()
    waiting = DigestItem.objects.filter(digest__isnull=True).values_list("user_id", flat=True).distinct()
    sent = 0
    # The person model by Django's own setting, not an import: accounts builds on notify.
    for user in get_user_model().objects.filter(pk__in=list(waiting), is_active=True):
        local = moment.astimezone(zone_of(user))
        if local.hour >= DIGEST_HOUR:
            sent += _send_digest(user, local.date())
    return sent


def _send_digest(user: User, day: dt.date) -> int:
    try:
        with transaction.atomic():
            digest = Digest.objects.create(user=user, local_date=day)
            items = list(
                DigestItem.objects.filter(user=user, digest__isnull=True).order_by("created_at", "pk")
            )
            DigestItem.objects.filter(pk__in=[i.pk for i in items]).update(digest=digest)
            queue_email(digest_mail(user, day, items))
    except IntegrityError:
        return 0  # today's digest already went: what came since waits for tomorrow's
    return 1


def digest_mail(user: User, day: dt.date, items: list[DigestItem]) -> Email:
    return Email(
        kind="daily-digest",
        to=[user.email],
        context={
            "day": f"{day:%A %d %B %Y}",
            "timezone": str(zone_of(user)),
            "count": len(items),
            "items": [{"subject": i.subject, "url": i.url} for i in items],
            "account_url": settings.BASE_URL + reverse("account") + "#notices",
        },
    )
