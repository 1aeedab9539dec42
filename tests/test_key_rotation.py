from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk import crypto
from vulndesk.advisories.actions import do_create_advisory
from vulndesk.advisories.actions.subscriptions import do_subscribe
from vulndesk.advisories.models import Subscription
from vulndesk.cli import main
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project
from vulndesk.rotation import keys_in_use, rotate

OLD = "old:" + "o" * 40
NEW = "new:" + "n" * 40


@pytest.fixture(autouse=True)
def _fresh_keyring() -> Iterator[None]:
    from vulndesk.intake import search  # noqa: PLC0415

    crypto.keyring.cache_clear()
    yield
    # Keys derived from settings a test changed must not outlive it.
    crypto.keyring.cache_clear()
    search._index_key.cache_clear()


def _use(settings: Settings, keys: str) -> None:
    settings.ENCRYPTION_KEYS = keys
    crypto.keyring.cache_clear()


def test_rotation_reseals_everything_with_the_new_key_and_the_old_key_can_go(
    client: Client, project_a: Project, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(settings, OLD)
    payload = {"title": "secret title", "description": "secret body", "reporter_email": "r@researcher.test"}
    client.post("/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json")
    draft = do_create_advisory(project_a, report=Report.objects.get(), acting_user=None)
    do_subscribe(project_a, "sam@subscriber.test", acting_user=None)
    assert set(keys_in_use()) == {"old"}

    _use(settings, f"{NEW},{OLD}")
    assert Report.objects.get().title == "secret title"  # both keys open, before and during rotation
    assert main(["keys", "rotate"]) == 0
    assert "new=" in capsys.readouterr().out
    assert set(keys_in_use()) == {"new"}
    assert sum(rotate().values()) == 0, "a second run finds nothing left to do"

    _use(settings, NEW)
    report = Report.objects.get()
    assert report.title == "secret title"
    assert report.fields["description"] == "secret body"
    assert OutboundEmail.objects.get(kind="report-received").message["to"] == ["r@researcher.test"]
    # Advisory drafts and subscriber addresses are sealed too, and rotate with the rest.
    assert draft.revisions.get().content["title"] == "secret title"
    assert Subscription.objects.get().address == "sam@subscriber.test"


def test_every_sealed_column_is_rotated() -> None:
    """A new sealed field must be added to ``rotation.SEALED_COLUMNS``, or rotation would skip it."""
    from django.apps import apps  # noqa: PLC0415

    from vulndesk.rotation import SEALED_COLUMNS  # noqa: PLC0415

    sealed = {
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.name.startswith("sealed_")
    }
    assert sealed == {(column.model, column.field) for column in SEALED_COLUMNS}


def test_a_new_secret_key_and_a_reindex_keep_search_and_subscriptions_working(
    client: Client, project_a: Project, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from vulndesk.advisories.actions.subscriptions import address_digest  # noqa: PLC0415
    from vulndesk.intake import search  # noqa: PLC0415

    payload = {
        "title": "Heap overflow in tokenizer",
        "description": "d",
        "reporter_email": "r@researcher.test",
    }
    client.post("/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json")
    do_subscribe(project_a, "sam@subscriber.test", acting_user=None)
    first_subscription = Subscription.objects.get().pk
    assert list(search.search(Report.objects.all(), "tokenizer"))

    settings.SECRET_KEY = "a new secret key " + "k" * 40
    search._index_key.cache_clear()  # a new process would start with it empty
    # Keyed with the old secret: nothing is found, until the reindex.
    assert not list(search.search(Report.objects.all(), "tokenizer"))
    # Sam subscribes again before the reindex: not found under the new key, a second row is made.
    do_subscribe(project_a, "sam@subscriber.test", acting_user=None)
    assert Subscription.objects.count() == 2
    assert main(["keys", "reindex"]) == 0
    assert "reports: recomputed 1" in capsys.readouterr().out
    assert [r.title for r in search.search(Report.objects.all(), "tokenizer")] == [payload["title"]]
    # One row again, the older one, under the new key.
    kept = Subscription.objects.get()
    assert kept.address_digest == address_digest("sam@subscriber.test")
    assert kept.pk == first_subscription
