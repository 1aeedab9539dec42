"""Intake over SMTP, plain and PGP/MIME, beside an aiosmtpd server that discards what it gets."""

from __future__ import annotations

import base64
import json
import os
import smtplib
import tempfile
import urllib.request
import uuid
from functools import partial
from typing import Any

import gnupg
from aiosmtpd.controller import Controller

from bench.common import Result, Server, free_port, load, ms, percentile, timed

SIZES = {"10 KB": 10 * 1024, "1 MB": 1024 * 1024}
LEVELS = (1, 16)


class _Discard:
    async def handle_DATA(self, *_args: Any) -> str:  # noqa: N802  # aiosmtpd's hook name
        return "250 OK"


def _entity(size: int) -> str:
    """The MIME entity: plain text for a small message; a short text and an attachment (a proof of
    concept, say) for a large one, since a report's text itself is limited to 200,000 characters."""
    line = "All work and no play makes a report of a security issue.\r\n"
    if size <= 100 * 1024:
        return "Content-Type: text/plain; charset=utf-8\r\n\r\n" + (line * (size // len(line) + 1))[:size]
    attachment = base64.encodebytes(os.urandom(size * 3 // 4)).decode().replace("\n", "\r\n")
    return (
        'Content-Type: multipart/mixed; boundary="part"\r\n\r\n--part\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + line * 20 + "--part\r\n"
        'Content-Type: application/octet-stream; name="poc.bin"\r\nContent-Transfer-Encoding: base64\r\n'
        'Content-Disposition: attachment; filename="poc.bin"\r\n\r\n' + attachment + "--part--\r\n"
    )


def _message(to: str, size: int, encrypt: Any | None) -> bytes:
    headers = (
        f"From: bench@researcher.test\r\nTo: {to}\r\nSubject: bench {uuid.uuid4()}\r\n"
        f"Message-ID: <{uuid.uuid4()}@researcher.test>\r\nMIME-Version: 1.0\r\n"
    )
    if encrypt is None:
        return (headers + _entity(size)).encode()
    armored = str(encrypt(_entity(size)))
    return (
        headers
        + 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"\r\n\r\n'
        + "--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
        + '--enc\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
        + armored.replace("\n", "\r\n")
        + "\r\n--enc--\r\n"
    ).encode()


def _send(port: int, to: str, raw: bytes) -> float:
    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
            client.sendmail("bench@researcher.test", [to], raw)

    return timed(deliver)


def _nth(port: int, to: str, messages: list[bytes], n: int) -> float:
    return _send(port, to, messages[n % len(messages)])


def _encrypter(server: Server) -> tuple[Any, Any]:
    home = tempfile.TemporaryDirectory(prefix="bench-gpg-", dir="/tmp")  # gpg-agent needs a short path
    gpg = gnupg.GPG(gnupghome=home.name)
    public = server.python("vulndesk.cli", "key", "export", "llm-d")
    fingerprint = gpg.import_keys(public).fingerprints[0]

    def encrypt(text: str) -> str:
        return str(gpg.encrypt(text, fingerprint, always_trust=True, armor=True))

    return encrypt, home


def run(server: Server, mails: int) -> list[Result]:
    with urllib.request.urlopen(server.url + "/api/v1/projects/llm-d/policy", timeout=30) as response:
        to = json.loads(response.read())["policy"]["contacts"]["intake_addresses"][0]
    discard = Controller(_Discard(), hostname="127.0.0.1", port=free_port(), data_size_limit=40 * 1024 * 1024)
    discard.start()
    encrypt, home = _encrypter(server) if server.has_key else (None, None)
    results = []
    try:
        for size_name, size in SIZES.items():
            for kind in ("plain", "PGP/MIME") if encrypt else ("plain",):
                messages = [
                    _message(to, size, encrypt if kind == "PGP/MIME" else None) for _ in range(mails * 2)
                ]
                for clients in LEVELS:
                    total = max(mails, clients * 2)
                    base_rate, _ = load(partial(_nth, discard.port, to, messages), total, clients)
                    batch = [
                        _message(to, size, encrypt if kind == "PGP/MIME" else None) for _ in range(total)
                    ]
                    rate, latencies = load(partial(_nth, server.smtp_port, to, batch), total, clients)
                    results.append(
                        Result(
                            server.db,
                            f"smtp {size_name} {kind}, {clients} clients",
                            rate,
                            "messages/s",
                            base_rate,
                            "",
                            {
                                "p50_ms": ms(percentile(latencies, 0.5)),
                                "p99_ms": ms(percentile(latencies, 0.99)),
                            },
                        )
                    )
    finally:
        discard.stop()
        if home is not None:
            home.cleanup()
    return results
