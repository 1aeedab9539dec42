"""Encryption at rest for report contents: AES-256-GCM with a key id, so keys can rotate.

A sealed value reads ``v1:<key id>:<base64url(nonce || ciphertext || tag)>``. The first key in
``settings.ENCRYPTION_KEYS`` seals; every listed key opens. Associated data binds a ciphertext to
the row and field it belongs to, so a value copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORMAT = "v1"
NONCE_BYTES = 12
MIN_SECRET_CHARACTERS = 32


class DecryptionError(Exception):
    """A sealed value that no configured key opens, or that was altered."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, AESGCM]


def _derive(material: str) -> AESGCM:
    # Keys are given as text (generated or from a secret store); SHA-256 turns any such secret of
    # sufficient entropy into the 32 bytes AES-256 needs.
    return AESGCM(hashlib.sha256(material.encode()).digest())


def parse_keyring(spec: str) -> Keyring:
    keys: dict[str, AESGCM] = {}
    order: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        kid, sep, material = item.partition(":")
        if not sep or not kid.isalnum() or len(material) < MIN_SECRET_CHARACTERS:
            raise ImproperlyConfigured(
                "VULNDESK_ENCRYPTION_KEYS must be 'kid:secret' pairs, comma-separated, each secret "
                "at least 32 characters"
            )
        keys[kid] = _derive(material)
        order.append(kid)
    return Keyring(current=order[0], keys=keys)


@cache
def keyring() -> Keyring:
    return parse_keyring(settings.ENCRYPTION_KEYS)


def seal(plaintext: str, *, context: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.keys[ring.current].encrypt(nonce, plaintext.encode(), context.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{FORMAT}:{ring.current}:{body}"


def open_sealed(token: str, *, context: str) -> str:
    version, _, rest = token.partition(":")
    kid, _, body = rest.partition(":")
    key = keyring().keys.get(kid)
    if version != FORMAT or key is None:
        raise DecryptionError(f"no configured key opens a value sealed with key id {kid!r}")
    raw = base64.urlsafe_b64decode(body)
    try:
        return key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
    except InvalidTag:
        raise DecryptionError("the value was altered or belongs to another record") from None


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


class SealedColumns:
    """A model with sealed columns declares each once, in ``sealed_contexts``: the column's name and
    the associated data it is sealed under, a template filled from the row's attributes
    (``"report:{uid}:title"``). The model's own properties seal and open with it, and key rotation
    (vulndesk/rotation.py) finds every sealed column through it."""

    sealed_contexts: ClassVar[Mapping[str, str]] = {}

    def sealing_context(self, column: str) -> str:
        return self.sealed_contexts[column].format_map(_RowAttributes(self))

    def sealed(self, column: str, plaintext: str) -> str:
        """``plaintext`` sealed for ``column`` of this row."""
        return seal(plaintext, context=self.sealing_context(column))

    def opened(self, column: str) -> str:
        """What ``column`` of this row holds, opened."""
        return open_sealed(getattr(self, column), context=self.sealing_context(column))


class _RowAttributes(dict[str, object]):
    def __init__(self, row: object) -> None:
        super().__init__()
        self.row = row

    def __missing__(self, key: str) -> object:
        return getattr(self.row, key)
