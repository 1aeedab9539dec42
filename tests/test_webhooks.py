"""Webhooks: published advisories POSTed, signed, to a real HTTP receiver on loopback; a receiver
that is down for a while still gets every announcement, each under one delivery id."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.notify.models import OutboundStatus, OutboundWebhook, Webhook
from vulndesk.notify.webhooks import WebhookError, check_url, deliver_webhook, requeue_stranded_webhooks
from vulndesk.projects.models import Project

from .live import free_port
from .test_advisories import _draft_and_publish, _team


class Receiver:
    """An HTTP endpoint that records what it accepts; it can be down, or answer a set status."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, object]] = []
        self.answer = 204
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(
                    {
                        "delivery": self.headers["X-Vulndesk-Delivery"],
                        "event": self.headers["X-Vulndesk-Event"],
                        "signature": self.headers["X-Vulndesk-Signature"],
                        "body": body,
                    }
                )
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


def _add(admin: User, slug: str, url: str) -> str:
    page = _admin_client(admin).post(
        f"/desk/p/{slug}/webhooks/", {"action": "add", "url": url, "events": "advisory.published"}
    )
    assert page.status_code == 200, page.content.decode()[:1500]
    return page.content.decode().split("shown once:</strong> <code>")[1].split("</code>")[0]


def _admin_client(admin: User) -> Client:
    from .conftest import signed_in  # noqa: PLC0415

    return signed_in(admin)


def _run_due() -> list[str]:
    """What the worker does once the backoff is over: every queued delivery, now."""
    OutboundWebhook.objects.filter(status=OutboundStatus.QUEUED).update(next_attempt_at=timezone.now())
    return [deliver_webhook(str(d.uid)) for d in OutboundWebhook.objects.filter(status=OutboundStatus.QUEUED)]


def test_a_receiver_down_for_a_while_gets_every_announcement_once(
    project_b: Project, bob: User, admin: User, receiver: Receiver
) -> None:
    secret = _add(admin, "agentic-tool-mesh", receiver.url)
    assert Webhook.objects.get().secret == secret
    reviewer = _team(project_b, "reviewer")
    # Five advisories are published while the receiver is down: each delivery waits.
    published = [_draft_and_publish(project_b, bob, reviewer) for _ in range(5)]
    assert set(_run_due()) == {"deferred"}
    assert set(_run_due()) == {"deferred"}
    receiver.start()
    assert _run_due() == ["sent"] * 5
    assert _run_due() == []
    ids = [str(r["delivery"]) for r in receiver.received]
    assert len(ids) == len(set(ids)) == 5
    for received in receiver.received:
        body = received["body"]
        assert isinstance(body, bytes)
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert received["signature"] == expected
        assert received["event"] == "advisory.published"
    texts = sorted(json.loads(r["body"])["text"] for r in receiver.received)  # type: ignore[arg-type]
    identifiers = sorted(advisory.identifier for advisory in published)
    assert all(f"Published: {i}: " in text for i, text in zip(identifiers, texts, strict=True)), texts


def test_a_delivery_stranded_mid_request_goes_again_under_the_same_id(
    project_b: Project, bob: User, admin: User, receiver: Receiver
) -> None:
    _add(admin, "agentic-tool-mesh", receiver.url)
    receiver.start()
    _draft_and_publish(project_b, bob, _team(project_b, "reviewer"))
    delivery = OutboundWebhook.objects.get()
    assert deliver_webhook(str(delivery.uid)) == "sent"
    # As if the worker died after the receiver got it but before the row said so.
    OutboundWebhook.objects.update(
        status=OutboundStatus.SENDING, next_attempt_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert requeue_stranded_webhooks() == 1
    assert _run_due() == ["sent"]
    assert [r["delivery"] for r in receiver.received] == [
        str(delivery.uid)
    ] * 2  # the receiver drops the repeat


def test_a_receiver_that_refuses_fails_for_good_and_admins_see_it(
    project_b: Project, bob: User, admin: User, receiver: Receiver
) -> None:
    _add(admin, "agentic-tool-mesh", receiver.url)
    receiver.answer = 404
    receiver.start()
    _draft_and_publish(project_b, bob, _team(project_b, "reviewer"))
    assert _run_due() == ["failed"]
    outbox = _admin_client(admin).get("/desk/outbox/").content.decode()
    assert "the receiver answered 404" in outbox


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.org/x", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("https://user:secret@hooks.example.org/x", "no user name or password"),
        ("http://10.0.0.1/x", "must start with https://"),
    ],
)
def test_webhook_addresses_are_checked(url: str, reason: str) -> None:
    with pytest.raises(WebhookError, match=reason):
        check_url(url)


def test_only_admins_manage_webhooks(project_b: Project, bob: User) -> None:
    from .conftest import signed_in  # noqa: PLC0415

    assert signed_in(bob).get("/desk/p/agentic-tool-mesh/webhooks/").status_code == 404
