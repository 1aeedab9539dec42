"""Mail that reaches the intake through a relay: which host it really came from.

Behind an MX (Postfix, Exim…) every message arrives from the relay's address, so a per-address
limit would count all the world's reporters as one host. For a connection from a relay the operator
trusts (``VULNDESK_SMTP_INTAKE_TRUSTED_RELAYS``), the host is read from the ``Received`` header that
relay added on top, and further down while the host named is itself a trusted relay. Headers below
the last trusted relay's were written by the sender and prove nothing, so they are never read.
"""

from __future__ import annotations

import ipaddress
import re
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.conf import settings

# One header block at most this large is read; the parser refuses larger ones anyway (mail.py).
MAX_HEADER_BYTES = 64 * 1024
MAX_RELAY_HOPS = 10
# "from helo (reverse [192.0.2.7])" (Postfix), "from [192.0.2.7] (helo=x)" or "from host
# ([192.0.2.7] helo=x)" (Exim): the bracketed address of the from-clause, not one given as HELO.
_FROM_CLAUSE = re.compile(r"^\s*from\s+(.*?)(?:\bby\b|;|$)", re.IGNORECASE | re.DOTALL)
_BRACKETED = re.compile(r"(helo=|helo\s+)?\[(?:ipv6:)?([0-9a-f:.]+)\]", re.IGNORECASE)


def origin_address(raw: bytes, peer: str) -> str:
    """The address per-address limits count for a message from ``peer``."""
    address = peer
    for header in _received_headers(raw)[:MAX_RELAY_HOPS]:
        if not is_trusted_relay(address):
            break
        sender = connecting_host(header)
        if sender is None:
            break  # a relay that does not say: the relay is the best we know
        address = sender
    return address


def is_trusted_relay(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.SMTP_INTAKE_TRUSTED_RELAYS)


def connecting_host(received: str) -> str | None:
    """The address of the host that connected, as a ``Received`` header's from-clause names it."""
    clause = _FROM_CLAUSE.match(" ".join(received.split()))
    if clause is None:
        return None
    candidates = [m.group(2) for m in _BRACKETED.finditer(clause.group(1)) if not m.group(1)]
    for candidate in reversed(candidates):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _received_headers(raw: bytes) -> list[str]:
    if not settings.SMTP_INTAKE_TRUSTED_RELAYS:
        return []
    head = raw[:MAX_HEADER_BYTES].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message = BytesHeaderParser(policy=compat32).parsebytes(head)
    return [str(value) for value in message.get_all("Received") or []]
