"""Webhooks: published advisories POSTed, signed, to a real HTTP receiver on loopback; a receiver
that is down for a while still gets every announcement, each under one delivery id."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from vulndesk.accounts.models import User
from vulndesk.notify.models import OutboundStatus, OutboundWebhook, Webhook
from vulndesk.notify.webhook_address import Destination, WebhookError, check_url, post
from vulndesk.notify.webhooks import deliver_webhook, requeue_stranded_webhooks
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
                        "host": self.headers["Host"],
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
def receiver(settings: Settings) -> Iterator[Receiver]:
    # The receiver listens on loopback, which webhooks reach only where the operator allows it.
    settings.WEBHOOK_ALLOWED_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"),)
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


def _refused_for_good(project_b: Project, bob: User, admin: User, receiver: Receiver) -> None:
    """An advisory announced to a receiver that answers 404: the delivery fails for good."""
    _add(admin, "agentic-tool-mesh", receiver.url)
    receiver.answer = 404
    receiver.start()
    _draft_and_publish(project_b, bob, _team(project_b, "reviewer"))
    assert _run_due() == ["failed"]


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
    _refused_for_good(project_b, bob, admin, receiver)
    outbox = _admin_client(admin).get("/desk/outbox/").content.decode()
    assert "the receiver answered 404" in outbox


# Every address check_url refuses, by the reason it gives.
REFUSED_ADDRESSES = {
    "must start with https://": ["http://hooks.example.org/x", "file:///etc/passwd", "http://10.0.0.1/x"],
    "no user name or password": ["https://user:secret@hooks.example.org/x"],
    "internal address": [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://2130706433/x",
        "https://0x7f000001/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:169.254.169.254]/x",
        "https://10.0.0.1/x",
        "https://192.168.1.1/x",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://224.0.0.1/x",
        "https://240.0.0.1/x",
        "https://[fe80::1]/x",
        "https://[fc00::1]/x",
    ],
    "printable ASCII only": [
        "https://hooks.example.org/x\r\nX-Injected: 1",
        "https://hooks.example.org/x\nHost: 127.0.0.1",
        "https://hooks.example.org/a\tb",
        "https://hooks.example.org/a b",
        "https://hooks.example.org/\x00",
        "https://hooks.example.org/\u202ex",
        "https://hooks.example.org/\x7f",
    ],
}


@pytest.mark.parametrize(
    ("url", "reason"), [(url, reason) for reason, urls in REFUSED_ADDRESSES.items() for url in urls]
)
def test_webhook_addresses_are_checked(url: str, reason: str) -> None:
    """No scheme but https, no credentials, never an internal address, no control characters."""
    with pytest.raises(WebhookError, match=reason):
        check_url(url)


def test_only_admins_manage_webhooks(project_b: Project, bob: User) -> None:
    from .conftest import signed_in  # noqa: PLC0415

    assert signed_in(bob).get("/desk/p/agentic-tool-mesh/webhooks/").status_code == 404


def test_an_allowed_network_is_reached_and_nothing_else(settings: Settings) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = (ipaddress.ip_network("10.0.0.0/8"),)
    assert check_url("https://10.1.2.3/x") == "https://10.1.2.3/x"
    with pytest.raises(WebhookError, match="internal address"):
        check_url("https://127.0.0.1/x")


def test_the_form_refuses_a_webhook_address_with_a_line_break(project_b: Project, admin: User) -> None:
    page = _admin_client(admin).post(
        "/desk/p/agentic-tool-mesh/webhooks/",
        {
            "action": "add",
            "url": "https://hooks.example.org/x\r\nX-Injected: 1",
            "events": "advisory.published",
        },
    )
    assert "printable ASCII only" in page.content.decode()
    assert not Webhook.objects.exists()


def test_an_address_that_became_internal_is_refused_at_delivery(
    project_b: Project, bob: User, admin: User, receiver: Receiver, settings: Settings
) -> None:
    _add(admin, "agentic-tool-mesh", receiver.url)
    receiver.start()
    _draft_and_publish(project_b, bob, _team(project_b, "reviewer"))
    # As if the name now resolved to a loopback address (or the operator narrowed the networks).
    settings.WEBHOOK_ALLOWED_NETWORKS = ()
    assert _run_due() == ["failed"]
    assert receiver.received == []
    assert "internal address" in OutboundWebhook.objects.get().last_error


def test_a_delivery_connects_to_the_checked_address_and_names_the_host(receiver: Receiver) -> None:
    receiver.start()
    # hooks.example.org does not resolve here: an answer proves no second lookup was made.
    destination = Destination("http", "hooks.example.org", receiver.port, "/hook", ("127.0.0.1",))
    headers = {"X-Vulndesk-Delivery": "d", "X-Vulndesk-Event": "e", "X-Vulndesk-Signature": "s"}
    assert post(destination, b"{}", headers, timeout=5) == 204
    assert receiver.received[0]["host"] == f"hooks.example.org:{receiver.port}"


def _certificate_for(host: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_tls_is_verified_against_the_host_name_not_the_address(receiver: Receiver, tmp_path: Path) -> None:
    cert_path, key_path = _certificate_for("hooks.example.org", tmp_path)
    receiver.start()
    assert receiver.server is not None
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert_path, key_path)
    receiver.server.socket = served.wrap_socket(receiver.server.socket, server_side=True)
    trusting = ssl.create_default_context(cafile=str(cert_path))
    headers = {"X-Vulndesk-Delivery": "d", "X-Vulndesk-Event": "e", "X-Vulndesk-Signature": "s"}
    good = Destination("https", "hooks.example.org", receiver.port, "/hook", ("127.0.0.1",))
    assert post(good, b"{}", headers, timeout=5, tls=trusting) == 204
    assert receiver.received[0]["host"] == f"hooks.example.org:{receiver.port}"
    other = Destination("https", "other.example.org", receiver.port, "/hook", ("127.0.0.1",))
    with pytest.raises(ssl.SSLCertVerificationError):
        post(other, b"{}", headers, timeout=5, tls=trusting)


def test_an_answer_that_is_not_http_fails_the_delivery_with_its_kind(
    project_b: Project, bob: User, admin: User, settings: Settings
) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"),)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_nonsense() -> None:
        with listener, contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"nonsense\r\n\r\n")

    threading.Thread(target=answer_nonsense, daemon=True).start()
    _add(admin, "agentic-tool-mesh", f"http://127.0.0.1:{port}/hook")
    _draft_and_publish(project_b, bob, _team(project_b, "reviewer"))
    assert _run_due() == ["failed"]
    delivery = OutboundWebhook.objects.get()
    assert delivery.status == OutboundStatus.FAILED
    assert delivery.last_error == "unexpected error: BadStatusLine"
    assert requeue_stranded_webhooks(timezone.now() + dt.timedelta(days=1)) == 0


def _announced_to_a_stored_address(project_b: Project, bob: User, admin: User, stored: str) -> list[str]:
    """A webhook added with a public address whose stored address became ``stored``; what the
    worker's delivery of the next announcement comes to."""
    _add(admin, "agentic-tool-mesh", "https://93.184.215.14/hook")
    Webhook.objects.update(url=stored)
    _draft_and_publish(project_b, bob, _team(project_b, "reviewer"))
    return _run_due()


def test_a_stored_address_with_a_line_break_fails_at_once_instead_of_for_ever(
    project_b: Project, bob: User, admin: User
) -> None:
    # An address saved before the check existed.
    assert _announced_to_a_stored_address(
        project_b, bob, admin, "https://93.184.215.14/hook\r\nX-Injected: 1"
    ) == ["failed"]
    assert "printable ASCII only" in OutboundWebhook.objects.get().last_error


def test_a_host_that_does_not_resolve_at_delivery_is_tried_again_later(
    project_b: Project, bob: User, admin: User
) -> None:
    # As if its name stopped resolving for a while (the .invalid domain never resolves, RFC 6761).
    assert _announced_to_a_stored_address(project_b, bob, admin, "https://hooks.invalid/hook") == ["deferred"]
    delivery = OutboundWebhook.objects.get()
    assert delivery.status == OutboundStatus.QUEUED
    assert "does not resolve" in delivery.last_error


def test_an_administrator_retries_a_failed_delivery_and_the_receiver_gets_it(
    project_b: Project, bob: User, admin: User, receiver: Receiver
) -> None:
    from vulndesk.audit.models import AuditEvent  # noqa: PLC0415

    _refused_for_good(project_b, bob, admin, receiver)
    delivery = OutboundWebhook.objects.get()
    receiver.answer = 204
    response = _admin_client(admin).post(f"/desk/outbox/webhooks/{delivery.uid}/retry/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (OutboundStatus.QUEUED, 0)
    assert AuditEvent.objects.filter(action="webhook.delivery_retried", actor=admin).count() == 1
    assert _run_due() == ["sent"]
    assert [r["delivery"] for r in receiver.received][-1] == str(delivery.uid)
