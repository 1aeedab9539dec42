from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings

from vulndesk import crypto


@pytest.fixture(autouse=True)
def _fresh_keyring() -> None:
    crypto.keyring.cache_clear()


def test_a_sealed_value_opens_only_in_its_own_context() -> None:
    sealed = crypto.seal("secret report text", context="report:1:title")
    assert "secret" not in sealed
    assert crypto.open_sealed(sealed, context="report:1:title") == "secret report text"
    with pytest.raises(crypto.DecryptionError, match="another record"):
        crypto.open_sealed(sealed, context="report:2:title")


def test_a_tampered_value_does_not_open() -> None:
    sealed = crypto.seal("text", context="c")
    version, kid, body = sealed.split(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[len(raw) // 2] ^= 0x01
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(f"{version}:{kid}:{flipped}", context="c")


def test_after_rotation_old_values_still_open_and_new_ones_use_the_new_key(settings: Settings) -> None:
    settings.ENCRYPTION_KEYS = "old:" + "o" * 40
    crypto.keyring.cache_clear()
    old = crypto.seal("before rotation", context="c")
    settings.ENCRYPTION_KEYS = "new:" + "n" * 40 + ",old:" + "o" * 40
    crypto.keyring.cache_clear()
    new = crypto.seal("after rotation", context="c")
    assert crypto.key_id_of(old) == "old"
    assert crypto.key_id_of(new) == "new"
    assert crypto.open_sealed(old, context="c") == "before rotation"


def test_a_value_sealed_with_a_removed_key_says_which_key_is_missing(settings: Settings) -> None:
    settings.ENCRYPTION_KEYS = "gone:" + "g" * 40
    crypto.keyring.cache_clear()
    sealed = crypto.seal("x", context="c")
    settings.ENCRYPTION_KEYS = "k2:" + "k" * 40
    crypto.keyring.cache_clear()
    with pytest.raises(crypto.DecryptionError, match="'gone'"):
        crypto.open_sealed(sealed, context="c")


@pytest.mark.parametrize("spec", ["", "nokey", "k1:short", "k-1:" + "x" * 40])
def test_a_malformed_key_setting_is_refused(spec: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="VULNDESK_ENCRYPTION_KEYS"):
        crypto.parse_keyring(spec)
