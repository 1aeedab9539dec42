from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The caller's network address; behind a trusted proxy, the one it reports as the client."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The proxy appends the address it saw; earlier entries are whatever the client claimed.
            return str(forwarded).split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR") or "")
