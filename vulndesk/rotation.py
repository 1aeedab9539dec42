"""Re-sealing stored data with the current encryption key (``vulndesk keys rotate``).

To rotate: put a new ``kid:secret`` first in VULNDESK_ENCRYPTION_KEYS, keeping the old one after
it, restart, and run ``vulndesk keys rotate``; when it reports nothing left under the old key,
remove the old key. The service keeps running throughout: every value opens with either key, and
each batch is re-sealed in its own short transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.apps import apps
from django.db import models, transaction

from vulndesk.accounts.models import User
from vulndesk.advisories.actions.subscriptions import address_digest
from vulndesk.advisories.models import Subscription
from vulndesk.audit.actions import JsonScalar, record_event
from vulndesk.crypto import SealedColumns, key_id_of, keyring, open_sealed, seal
from vulndesk.duplicates.actions import store_profile
from vulndesk.intake.actions import reporter_index
from vulndesk.intake.models import Report
from vulndesk.intake.search import index_report

BATCH = 200


@dataclass(frozen=True)
class SealedColumn:
    model: type[models.Model]
    field: str

    def context(self, row: models.Model) -> str:
        return cast("SealedColumns", row).sealing_context(self.field)


def sealed_columns() -> list[SealedColumn]:
    """Every sealed column, from the declarations on the models (``SealedColumns.sealed_contexts``)."""
    return [
        SealedColumn(model, field)
        for model in apps.get_models()
        if issubclass(model, SealedColumns)
        for field in model.sealed_contexts
    ]


SEALED_COLUMNS = sealed_columns()


def do_rotate_keys(
    *, acting_user: User | None, on_progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Re-seal everything under the current key, then record that it was done and how much: the
    batches commit one by one (the service keeps running), the audit event once they all have."""
    counts = rotate(on_progress)
    with transaction.atomic():
        details: dict[str, JsonScalar | list[str]] = {"key": keyring().current, **counts}
        record_event("keys.rotated", acting_user=acting_user, details=details)
    return counts


def do_reindex(
    *, acting_user: User | None, on_progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Recompute what is keyed with the secret key (see ``reindex``), then record it once."""
    counts = reindex(on_progress)
    with transaction.atomic():
        details: dict[str, JsonScalar | list[str]] = {**counts}
        record_event("keys.reindexed", acting_user=acting_user, details=details)
    return counts


def rotate(on_progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-seal every value not sealed with the current key; how many per column."""
    current = keyring().current
    counts: dict[str, int] = {}
    for column in SEALED_COLUMNS:
        label = f"{column.model._meta.label}.{column.field}"  # noqa: SLF001 - Django's API
        counts[label] = _rotate_column(column, current)
        if on_progress:
            on_progress(label, counts[label])
    return counts


def _rotate_column(column: SealedColumn, current: str) -> int:
    done = 0
    stale = (
        column.model._default_manager.exclude(  # noqa: SLF001 - Django API
            **{f"{column.field}__startswith": f"v1:{current}:"}
        )
        .exclude(**{column.field: ""})  # an optional sealed column left empty holds nothing to re-seal
        .order_by("pk")
    )
    while True:
        with transaction.atomic():
            rows = list(stale.select_for_update()[:BATCH])
            for row in rows:
                value = getattr(row, column.field)
                context = column.context(row)
                setattr(row, column.field, seal(open_sealed(value, context=context), context=context))
                row.save(update_fields=[column.field])
        done += len(rows)
        if len(rows) < BATCH:
            return done


def keys_in_use() -> dict[str, int]:
    """How many stored values each key id seals (to know when an old key can go)."""
    used: dict[str, int] = {}
    for column in SEALED_COLUMNS:
        manager = column.model._default_manager  # noqa: SLF001 - Django API
        for value in manager.exclude(**{column.field: ""}).values_list(column.field, flat=True).iterator():
            kid = key_id_of(value)
            used[kid] = used.get(kid, 0) + 1
    return used


# --- VULNDESK_SECRET_KEY -------------------------------------------------------------------------


def reindex(on_progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Rebuild what is keyed with the secret key, after changing it (``vulndesk keys reindex``).

    The search index and the subscribers' address digests are HMACs under the secret key: a new key
    leaves them unfindable until they are computed again from the sealed values. Work goes in
    batches, each in its own short transaction, so the service keeps running; progress is reported
    per batch.
    """
    counts = {"reports": 0, "subscriptions": 0}
    report_ids = list(Report.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(report_ids), BATCH):
        with transaction.atomic():
            batch = report_ids[start : start + BATCH]
            for report in Report.objects.select_for_update(no_key=True).filter(pk__in=batch):
                _reindex_report(report)
                counts["reports"] += 1
        if on_progress is not None:
            on_progress("reports", counts["reports"])
    subscription_ids = list(Subscription.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(subscription_ids), BATCH):
        with transaction.atomic():
            for pk in subscription_ids[start : start + BATCH]:
                counts["subscriptions"] += _redigest_subscription(pk)
        if on_progress is not None:
            on_progress("subscriptions", counts["subscriptions"])
    return counts


def _reindex_report(report: Report) -> None:
    index_report(report, [report.title, *report.fields.values()])
    store_profile(report)  # duplicate ranking's profile, rebuilt with the index
    report.reporter_index = reporter_index(str(report.reporter.get("email", "")))
    report.save(update_fields=["reporter_index"])


def _redigest_subscription(pk: int) -> int:
    """The subscription's digest under the current key. Someone who subscribed again after the key
    changed has a second row by now: the two become one, keeping the confirmed (or older) row."""

    subscription = Subscription.objects.select_for_update().filter(pk=pk).first()
    if subscription is None:
        return 0  # gone since the list was read
    digest = address_digest(subscription.address)
    twin = (
        Subscription.objects.select_for_update()
        .filter(project_id=subscription.project_id, address_digest=digest)
        .exclude(pk=pk)
        .first()
    )
    if twin is not None:
        keep, drop = sorted((subscription, twin), key=lambda s: (s.confirmed_at is None, s.created_at))
        drop.delete()
        if keep.pk != pk:
            return 1
        subscription = keep
    subscription.address_digest = digest
    subscription.save(update_fields=["address_digest"])
    return 1
