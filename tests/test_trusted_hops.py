"""Per-address limits behind a reverse proxy and behind a mail relay: the hops the operator trusts
say who the client is; anything a client writes itself counts for nothing."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk.config import env_networks
from vulndesk.intake.relay import connecting_host
from vulndesk.intake.smtpd import IntakeHandler, intake_controller
from vulndesk.projects.models import Project

from .live import free_port
from .test_smtp_intake import mail, send

PROXY = "10.0.0.5"


def _report_through(client: Client, forwarded_for: str, n: int) -> int:
    payload = json.dumps({"title": f"t{n}", "description": "d", "reporter_email": f"r{n}@researcher.test"})
    return client.post(
        "/api/v1/projects/llm-d/reports",
        payload,
        content_type="application/json",
        headers={"X-Forwarded-For": forwarded_for},
    ).status_code


@pytest.fixture
def behind_proxies(settings: Settings, project_a: Project) -> Settings:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 2
    return settings


def test_behind_trusted_proxies_each_client_is_limited_on_its_own(behind_proxies: Settings) -> None:
    proxy = Client(REMOTE_ADDR=PROXY)
    # Two proxies in a row (a load balancer, then nginx): both hops are trusted and skipped.
    assert [_report_through(proxy, f"198.51.100.{n}, 10.0.0.9", n) for n in range(4)] == [201] * 4
    assert [_report_through(proxy, "198.51.100.7, 10.0.0.9", 10 + n) for n in range(3)] == [201, 201, 429]


def test_a_client_cannot_escape_the_limit_by_writing_its_own_forwarded_for(
    behind_proxies: Settings,
) -> None:
    proxy = Client(REMOTE_ADDR=PROXY)
    # The client sent "X-Forwarded-For: 192.0.2.N"; the proxy appended the address it saw.
    codes = [_report_through(proxy, f"192.0.2.{n}, 198.51.100.7", n) for n in range(3)]
    assert codes == [201, 201, 429]


def test_a_request_that_is_not_from_a_trusted_proxy_is_counted_by_its_own_address(
    behind_proxies: Settings,
) -> None:
    direct = Client(REMOTE_ADDR="203.0.113.9")
    codes = [_report_through(direct, f"198.51.100.{n}", n) for n in range(3)]
    assert codes == [201, 201, 429]


def test_without_trusted_proxies_forwarded_for_is_ignored(settings: Settings, project_a: Project) -> None:
    settings.TRUSTED_PROXIES, settings.BEHIND_PROXY = [], False
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 2
    proxy = Client(REMOTE_ADDR=PROXY)
    assert [_report_through(proxy, f"198.51.100.{n}", n) for n in range(3)] == [201, 201, 429]


def test_a_trusted_network_that_is_not_one_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VULNDESK_TRUSTED_PROXIES", "10.0.0.0/8, nginx.internal")
    with pytest.raises(ImproperlyConfigured, match=re.escape("VULNDESK_TRUSTED_PROXIES: 'nginx.internal'")):
        env_networks("VULNDESK_TRUSTED_PROXIES")
    monkeypatch.setenv("VULNDESK_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7,fd00::/8")
    assert [str(n) for n in env_networks("VULNDESK_TRUSTED_PROXIES")] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "fd00::/8",
    ]


def _relayed(n: int, origin: str, sender: str | None = None) -> bytes:
    """A message as the relay hands it on: its own Received header on top of the sender's forgery."""
    message = mail(
        subject=f"report {n}",
        From=sender or f"r{n}@researcher.test",
        Message_ID=f"<m{n}@researcher.test>",
    )
    message.set_content(f"Report number {n}.\n")
    relayed = EmailMessage()
    relayed["Received"] = (
        f"from client.example (client.example [{origin}]) by mx.llm-d.test (Postfix) "
        "with ESMTPS id 4Xy; Thu, 3 Dec 2026 12:00:00 +0000"
    )
    # Written by the sender: never read, since the relay that added the header above is the last
    # trusted hop.
    relayed["Received"] = "from forged ([192.0.2.200]) by nowhere; Thu, 3 Dec 2026 11:59:00 +0000"
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in relayed.items()) + message.as_bytes()


@pytest.fixture
def intake(transactional_db: None, project_a: Project) -> Iterator[int]:
    """The real SMTP intake on a loopback port: the relay the operator trusts is this test."""
    port = free_port()
    controller = intake_controller("127.0.0.1", port, IntakeHandler())
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def behind_relay(settings: Settings) -> Settings:
    settings.SMTP_INTAKE_TRUSTED_RELAYS = [ipaddress.ip_network("127.0.0.0/8")]
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 2
    return settings


def test_behind_a_trusted_relay_each_sending_host_is_limited_on_its_own(
    behind_relay: Settings, intake: int
) -> None:
    port = intake
    assert [send(port, _relayed(n, f"198.51.100.{n}"))[0] for n in range(4)] == [250] * 4
    codes = [send(port, _relayed(10 + n, "198.51.100.7"))[0] for n in range(3)]
    assert codes == [250, 250, 450]


def test_behind_a_trusted_relay_the_per_sender_limit_is_unchanged(
    behind_relay: Settings, intake: int
) -> None:
    behind_relay.INTAKE_PER_SENDER_PER_HOUR = 2
    port = intake
    results = [send(port, _relayed(n, f"198.51.100.{n}", sender="rita@researcher.test")) for n in range(3)]
    assert [code for code, _ in results] == [250, 250, 450]
    assert "too many reports from this sender" in results[2][1]


def test_received_headers_count_for_nothing_from_a_relay_nobody_trusts(
    settings: Settings, intake: int
) -> None:
    settings.SMTP_INTAKE_TRUSTED_RELAYS = []
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 2
    port = intake
    assert [send(port, _relayed(n, f"198.51.100.{n}"))[0] for n in range(3)] == [250, 250, 450]


@pytest.mark.parametrize(
    ("received", "host"),
    [
        ("from mail.example.org (mail.example.org [203.0.113.5]) by mx.test (Postfix)", "203.0.113.5"),
        ("from [10.1.1.1] (unknown [203.0.113.5])\r\n\tby mx.test (Postfix) with ESMTP", "203.0.113.5"),
        ("from [203.0.113.5] (helo=[10.1.1.1]) by mx.test with esmtp (Exim 4.97)", "203.0.113.5"),
        ("from host.example ([203.0.113.5] helo=host.example) by mx.test with esmtps", "203.0.113.5"),
        ("from x ([IPv6:2001:db8::5]) by mx.test", "2001:db8::5"),
        ("by mx.test with local (Exim 4.97)", None),
        ("from localhost by mx.test", None),
    ],
)
def test_the_connecting_host_is_read_from_postfix_and_exim_received_headers(
    received: str, host: str | None
) -> None:
    assert connecting_host(received) == host
