"""The flood (issue 17): junk reports from 100 addresses over the API and SMTP, paced to arrive
within a window, while other senders report now and then and one real report with a proof of
concept arrives in the middle.

What it shows: the real report is acknowledged (its acknowledgement's latency, from the POST to the
mail reaching the relay, beside the same report sent with no flood), it is on the first page of the
queue sorted by evidence, every junk report is either stored (quarantined or in the queue) or
refused with a rate-limit answer its sender read (none lost: stored + refused = sent, and the
database holds exactly the stored ones), and the intake's p99 for the other senders.

The server runs with the product's default hourly limits (20 per network address, 10 per sender),
not the raised ones of the other benchmarks; a trusted proxy and a trusted relay on loopback let
each simulated sender have its own address (X-Forwarded-For, Received), as behind a real proxy/MX.
"""

from __future__ import annotations

import json
import smtplib
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

from bench.common import Result, Server, free_port, ms, percentile

JUNK_SENDERS = 100
OTHER_SENDERS = 10
OTHER_REPORTS_EACH = 4  # within the per-sender limit: these senders are never refused
CLIENTS = 16
PROJECT = "llm-d"
REAL_SENDER = "rita@researcher.test"
REAL_REPORT = (
    "The model router passes tool output to eval().\n\nSteps to reproduce:\n"
    "1. Start the router with the python tool enabled.\n2. Send the prompt below.\n"
    "3. The shell command runs on the host.\n\n```python\n"
    "router.handle({'tool': 'python', 'code': \"__import__('os').system('id')\"})\n```\n"
)
JUNK_WORDS = (
    "I have found a CRITICAL vulnerability in your AI system that could allow attackers to "
    "compromise everything. Please fix it urgently and tell me about the reward."
)
# (junk reports, seconds they are spread over) per scale; "full" is the 10,000 in 10 minutes.
FLOOD_SCALES = {"tiny": (200, 10.0), "small": (2_000, 120.0), "full": (10_000, 600.0)}


class Sink:
    """The relay the server's outgoing mail goes to: when each recipient's first mail arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.first: dict[str, float] = {}
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        now = time.monotonic()
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.first.setdefault(recipient.lower(), now)
        return "250 OK"

    def wait_for(self, recipient: str, timeout: float = 120) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if recipient in self.first:
                    return self.first[recipient]
            time.sleep(0.05)
        return None


def flood_env(sink: Sink) -> dict[str, str]:
    """The server's settings for the run: default limits; loopback as a trusted proxy and relay."""
    return {
        "VULNDESK_TRUSTED_PROXIES": "127.0.0.1/32",
        "VULNDESK_SMTP_INTAKE_TRUSTED_RELAYS": "127.0.0.1/32",
        "VULNDESK_SMTP_HOST": "127.0.0.1",
        "VULNDESK_SMTP_PORT": str(sink.port),
        "VULNDESK_SMTP_STARTTLS": "false",
    }


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    other_latencies: list[float] = field(default_factory=list)
    # When each other sender's first report was posted: their acknowledgement is timed from it.
    other_first_sent: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, channel: str, outcome: str) -> None:
        with self.lock:
            self.sent[channel] += 1
            self.outcomes[outcome] += 1


def _api(server: Server, payload: dict[str, str], address: str) -> int:
    request = urllib.request.Request(
        server.url + f"/api/v1/projects/{PROJECT}/reports",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def _mail(server: Server, to: str, sender: str, address: str, body: str) -> int:
    raw = (
        f"Received: from slop.test ([{address}]) by mx.example.test; Fri, 4 Dec 2026 12:00:00 +0000\r\n"
        f"From: {sender}\r\nTo: {to}\r\nSubject: URGENT security issue {uuid.uuid4()}\r\n"
        f"Message-ID: <{uuid.uuid4()}@slop.test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()
    try:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=120) as client:
            client.sendmail(sender, [to], raw)
    except smtplib.SMTPDataError as refused:
        return int(refused.smtp_code)
    except smtplib.SMTPRecipientsRefused as refused:
        return int(next(iter(refused.recipients.values()))[0])
    return 250


def _junk(server: Server, to: str, tally: Tally, n: int) -> None:
    sender = n % JUNK_SENDERS
    email, address = f"slop{sender}@slop.test", f"10.1.{sender // 250}.{sender % 250 + 1}"
    if n % 2:
        code = _mail(server, to, email, address, JUNK_WORDS)
        tally.count("smtp", "stored" if code == 250 else f"refused {code}")
    else:
        payload = {"title": f"URGENT security issue {n}", "description": JUNK_WORDS, "reporter_email": email}
        code = _api(server, payload, address)
        tally.count("api", "stored" if code == 201 else f"refused {code}")


def _other(server: Server, tally: Tally, n: int) -> None:
    sender = n % OTHER_SENDERS
    payload = {
        "title": f"Crash in the scheduler {n}",
        "description": "The scheduler crashes when the queue is empty. " * 5,
        "reporter_email": f"other{sender}@researcher.test",
    }
    with tally.lock:
        tally.other_first_sent.setdefault(payload["reporter_email"], time.monotonic())
    started = time.perf_counter()
    code = _api(server, payload, f"10.2.0.{sender + 1}")
    with tally.lock:
        tally.other_latencies.append(time.perf_counter() - started)
    assert code == 201, f"another sender was refused ({code})"


def _real(
    server: Server, sink: Sink, sender: str, address: str, wait: float = 120
) -> tuple[int, float | None]:
    """The real report; its number, and seconds until its acknowledgement reached the relay."""
    payload = {"title": "Router runs tool output", "description": REAL_REPORT, "reporter_email": sender}
    started = time.monotonic()
    request = urllib.request.Request(
        server.url + f"/api/v1/projects/{PROJECT}/reports",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        number = int(json.loads(response.read())["number"])
    arrived = sink.wait_for(sender, timeout=wait)
    return number, (arrived - started) if arrived is not None else None


def _paced(calls: list[Any], seconds: float) -> list[BaseException]:
    """Run the calls spread evenly over ``seconds`` on a pool, as a steady flood arrives; the errors."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = []
        for i, call in enumerate(calls):
            delay = started + seconds * i / len(calls) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(call))
    return [error for future in futures if (error := future.exception()) is not None]


def run(server: Server, sink: Sink, scale: str) -> list[Result]:
    junk, seconds = FLOOD_SCALES[scale]
    to = _intake_address(server)
    quiet_number, quiet_ack = _real(server, sink, "quiet@researcher.test", "10.3.0.1")
    del quiet_number
    tally = Tally()
    calls: list[Any] = [lambda n=n: _junk(server, to, tally, n) for n in range(junk)]
    others = OTHER_SENDERS * OTHER_REPORTS_EACH
    step = max(1, len(calls) // others)
    for k in range(others):
        calls.insert(min(len(calls), k * (step + 1)), lambda k=k: _other(server, tally, k))
    real: dict[str, Any] = {}
    middle = len(calls) // 2

    def send_the_real_one() -> None:
        # The outbox delivers in order: the junk's acknowledgements queued before it go first.
        real["number"], real["ack"] = _real(server, sink, REAL_SENDER, "10.3.0.2", wait=max(120, 2 * seconds))

    calls.insert(middle, send_the_real_one)
    flood_started = time.monotonic()
    errors = _paced(calls, seconds)
    flood_seconds = time.monotonic() - flood_started
    if errors:
        raise RuntimeError(f"{len(errors)} calls failed, the first: {errors[0]!r}")
    checked = json.loads(server.python("bench.flood_inner", "--number", str(real["number"])))
    others_acknowledged = _first_acknowledgements(sink, tally.other_first_sent)
    stored = tally.outcomes["stored"]
    details = {
        "junk_sent": float(junk),
        "junk_stored": float(stored),
        "junk_refused": float(junk - stored),
        "junk_in_database": float(checked["junk_in_database"]),
        "junk_quarantined": float(checked["junk_quarantined"]),
        "lost": float(junk - sum(tally.outcomes.values()) + abs(checked["junk_in_database"] - stored)),
        "flood_seconds": flood_seconds,
        "real_on_first_page_by_evidence": float(checked["on_first_page"]),
        "real_position_by_evidence": float(checked["position"]),
    }
    refusals = {k: float(v) for k, v in tally.outcomes.items() if k != "stored"}
    return [
        Result(
            server.db,
            f"flood: {junk:,} junk in {seconds:.0f} s, accounted for",
            float(junk - details["lost"]),
            "reports",
            float(junk),
            "all (none lost)",
            {**details, **refusals},
        ),
        Result(
            server.db,
            "flood: real report's acknowledgement",
            real["ack"] or -1.0,
            "s",
            quiet_ack,
            "acknowledged",
        ),
        Result(
            server.db,
            "flood: other senders' intake p99",
            ms(percentile(tally.other_latencies, 0.99)),
            "ms",
            None,
            "< 1000 ms",
            {
                "p50_ms": ms(percentile(tally.other_latencies, 0.5)),
                "requests": float(len(tally.other_latencies)),
            },
        ),
        Result(
            server.db,
            "flood: other senders' first acknowledgement, slowest",
            max(others_acknowledged) if others_acknowledged else -1.0,
            "s",
            None,
            "acknowledged",
            {
                "p50_s": percentile(others_acknowledged, 0.5) if others_acknowledged else -1.0,
                "acknowledged": float(len(others_acknowledged)),
                "senders": float(len(tally.other_first_sent)),
            },
        ),
        Result(
            server.db,
            "flood: real report's place by evidence",
            details["real_position_by_evidence"],
            "position",
            None,
            "first page (<= 50)",
        ),
    ]


def _first_acknowledgements(sink: Sink, first_sent: dict[str, float]) -> list[float]:
    """Seconds from each sender's first report to their first mail at the relay (those that came)."""
    delays = []
    for sender, sent in first_sent.items():
        arrived = sink.wait_for(sender, timeout=30)
        if arrived is not None:
            delays.append(arrived - sent)
    return delays


def _intake_address(server: Server) -> str:
    with urllib.request.urlopen(server.url + f"/api/v1/projects/{PROJECT}/policy", timeout=30) as response:
        return str(json.loads(response.read())["policy"]["contacts"]["intake_addresses"][0])
