"""Text signed with a project's key: security.txt as an OpenPGP cleartext signature (RFC 9116 §2.3),
and a detached signature beside each CSAF document (CSAF 2.0 §7.1.19, requirement 19).

Signing runs gpg with the secret key in a throwaway home, which takes a noticeable fraction of a
second; security.txt is public and fetched by anyone, so each signed text is kept in the cache and
a repeated request signs nothing. The text changes when its Expires day, the policy or the key
changes, and the cache key names the key and the text's digest, so a stale signature is never
served.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.cache import cache

from vulndesk.openpgp.keys import GnuPGHome
from vulndesk.openpgp.models import ProjectKey

if TYPE_CHECKING:
    from vulndesk.projects.models import Project

SIGNED_TEXT_CACHE_SECONDS = 24 * 60 * 60


def clearsigned(key: ProjectKey, text: str) -> str:
    """``text`` cleartext-signed by the project's key."""
    return _signed(key, "clearsigned", text.encode(), lambda home: home.clearsign(text, key.fingerprint))


def signed_by_project(project: Project, text: str) -> str:
    """``text`` cleartext-signed by the project's key when it has one (``projects/hooks.py``)."""
    key = ProjectKey.objects.filter(project=project).first()
    return clearsigned(key, text) if key is not None else text


def detached_signature(key: ProjectKey, data: bytes) -> str:
    """An armored detached signature over ``data`` by the project's key."""
    return _signed(key, "detached", data, lambda home: home.sign_detached(data, key.fingerprint)[0])


def _signed(key: ProjectKey, kind: str, data: bytes, sign: Callable[[GnuPGHome], str]) -> str:
    cache_key = f"vulndesk:{kind}:{key.fingerprint}:{hashlib.sha256(data).hexdigest()}"
    signed: str | None = cache.get(cache_key)
    if signed is None:
        with GnuPGHome() as home:
            home.import_keys(key.secret_key)
            signed = sign(home)
        cache.set(cache_key, signed, SIGNED_TEXT_CACHE_SECONDS)
    return signed
