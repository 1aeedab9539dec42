"""Who is asking: the network address that per-address limits count (intake, sign-in, applications)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# More proxies than any deployment chains: a longer X-Forwarded-For is read no further.
MAX_PROXY_HOPS = 10


def client_address(request: HttpRequest) -> str:
    """The caller's network address.

    Behind trusted proxies it is the nearest X-Forwarded-For hop that is not one of them, read from
    the right: each proxy appends the address it saw, and everything further left was written by
    the client itself and proves nothing.
    """
    address = str(request.META.get("REMOTE_ADDR") or "")
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()][-MAX_PROXY_HOPS:]
    for depth, hop in enumerate(reversed(hops)):
        if not is_trusted_proxy(address, depth):
            break
        address = hop
    return address


def is_trusted_proxy(address: str, depth: int) -> bool:
    """Whether ``address``, ``depth`` hops from this server, is a proxy whose X-Forwarded-For counts.

    With ``VULNDESK_TRUSTED_PROXIES`` set, only addresses in those networks are. Without it,
    ``VULNDESK_BEHIND_PROXY`` alone means one proxy in front, whatever its address.
    """
    if not settings.TRUSTED_PROXIES:
        return bool(settings.BEHIND_PROXY) and depth == 0
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)
