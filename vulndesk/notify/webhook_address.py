"""Where a webhook may be delivered, and how to reach exactly the address that was checked.

A webhook address is typed by an administrator but reached by the worker, from inside the
network: without a check it is a way to make the server POST to its own loopback services, the
cloud metadata endpoint (169.254.169.254) or anything on the private network (SSRF). So the host is
resolved, every address it resolves to must be public (or inside a network the operator allowed
with ``VULNDESK_WEBHOOK_ALLOWED_NETWORKS``), and the connection then goes to one of those very
addresses: a second DNS lookup could answer differently (DNS rebinding). The request still names
the host in its ``Host`` header and TLS verifies the certificate against the host name.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 3986 §2: an address is printable ASCII; anything else (CR/LF, tabs, spaces, bidi or other
# format characters) would either split the request line or hide what the address really is.
_PRINTABLE_ASCII = frozenset(chr(c) for c in range(0x21, 0x7F))


class WebhookError(ValueError):
    """A webhook address or setting refused; the text says why."""


class UnresolvedHostError(WebhookError):
    """The host name did not resolve: refused when saved, tried again later at delivery."""


@dataclass(frozen=True)
class Destination:
    """A checked address: what the request says (scheme, host, port, path) and where it connects."""

    scheme: str
    host: str
    port: int
    target: str
    addresses: tuple[str, ...]


def check_url(url: str) -> str:
    """The address as it will be stored, or ``WebhookError``. Resolves the host (see the module)."""
    return _parse(url)[0]


def resolve_destination(url: str) -> Destination:
    """At delivery: the same checks again, and the addresses to connect to (resolved once, here)."""
    return _parse(url)[1]


def _parse(url: str) -> tuple[str, Destination]:
    address = url.strip()
    if not address or any(c not in _PRINTABLE_ASCII for c in address):
        raise WebhookError(
            "a webhook address holds printable ASCII only: no spaces, line breaks or control "
            "characters (write an international host name in its xn-- form)"
        )
    parts = urlsplit(address)
    if parts.username or parts.password:
        raise WebhookError("put no user name or password in the address; the body is signed instead")
    # Plain http only to a loopback address written as such, and only where the operator allows it.
    plain_http = (
        parts.scheme == "http" and settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP and _is_loopback(parts.hostname)
    )
    if not (parts.scheme == "https" or plain_http) or not parts.hostname:
        raise WebhookError("a webhook address must start with https://")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookError("the port of a webhook address must be a number from 1 to 65535") from None
    addresses = _allowed_addresses(parts.hostname, port)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    destination = Destination(parts.scheme, parts.hostname, port, target, tuple(str(a) for a in addresses))
    return address, destination


def _allowed_addresses(host: str, port: int) -> list[IPAddress]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnresolvedHostError(f"the host {host!r} of the webhook address does not resolve") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found))
    # Every address must be allowed, not only the first: the resolver's order is not ours to choose.
    for address in addresses:
        if is_internal(address) and not _explicitly_allowed(address):
            raise WebhookError(
                f"the host {host!r} resolves to {address}, an internal address (loopback, private, "
                "link-local, multicast or reserved); webhooks go to public addresses only"
            )
    return addresses


def _is_loopback(host: str | None) -> bool:
    try:
        return _unmapped(ipaddress.ip_address(host or "")).is_loopback
    except ValueError:
        return False


def _unmapped(address: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 is 127.0.0.1 on the wire; Python 3.11 does not see through the mapping itself.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_internal(address: IPAddress) -> bool:
    """Anything but a public unicast address (IPv4-mapped IPv6 judged as the IPv4 it carries)."""
    plain = _unmapped(address)
    return (
        not plain.is_global
        or plain.is_multicast
        or plain.is_reserved
        or plain.is_unspecified
        or plain.is_link_local
        or plain.is_loopback
        or plain.is_private
    )


def _explicitly_allowed(address: IPAddress) -> bool:
    plain = _unmapped(address)
    networks: tuple[IPNetwork, ...] = settings.WEBHOOK_ALLOWED_NETWORKS
    return any(plain.version == n.version and plain in n for n in networks)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a checked address; SNI and certificate verification use the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def post(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> int:
    """POST to the first checked address that accepts a connection; the answer's status. Redirects
    are never followed (http.client does not): following one could reach any address."""
    last_error: OSError | None = None
    for address in destination.addresses:
        connection = _connection(destination, address, timeout, tls)
        try:
            connection.request("POST", destination.target, body=body, headers=headers)
            return connection.getresponse().status
        except ConnectionRefusedError as exc:
            last_error = exc
        finally:
            connection.close()
    raise last_error or ConnectionRefusedError("no address to connect to")


def _connection(
    destination: Destination, address: str, timeout: float, tls: ssl.SSLContext | None
) -> http.client.HTTPConnection:
    if destination.scheme == "https":
        context = tls or ssl.create_default_context()
        return _PinnedHTTPSConnection(destination.host, destination.port, address, timeout, context)
    return _PinnedHTTPConnection(destination.host, destination.port, address, timeout)
