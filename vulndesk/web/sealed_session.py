"""Values a session keeps between two requests that must not sit in clear in the session table:
a setup secret, search words, a token to show once. Sealed like report contents, bound to the key
and the person, so a value cannot be moved to another session key or another account."""

from __future__ import annotations

from django.http import HttpRequest

from vulndesk.crypto import DecryptionError, open_sealed, seal


def _context(key: str, user_id: int) -> str:
    return f"session:{key}:{user_id}"


def keep_sealed(request: HttpRequest, key: str, value: str, *, user_id: int) -> None:
    request.session[key] = seal(value, context=_context(key, user_id))


def read_sealed(request: HttpRequest, key: str, *, user_id: int, pop: bool = False) -> str:
    """The value, or "" when there is none or it no longer opens (sealed under a retired key)."""
    sealed = str((request.session.pop(key, "") if pop else request.session.get(key, "")) or "")
    if not sealed:
        return ""
    try:
        return open_sealed(sealed, context=_context(key, user_id))
    except (DecryptionError, ValueError):
        return ""
