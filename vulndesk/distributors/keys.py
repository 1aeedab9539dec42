"""A member's OpenPGP key: read once when it is given, so that every later notice can use it."""

from __future__ import annotations

from vulndesk.openpgp.keys import GnuPGHome, OpenPGPError

MAX_KEY_BYTES = 64 * 1024


class MemberKeyError(ValueError):
    """A key we cannot encrypt notices to; the text says why and quotes nothing of the key."""


def checked_member_key(armored: str) -> tuple[str, str]:
    """The armored key as given and its fingerprint, if it is one public key that can encrypt."""
    text = armored.strip()
    if not text:
        raise MemberKeyError("an OpenPGP public key is required: notices are only sent encrypted")
    if len(text.encode()) > MAX_KEY_BYTES:
        raise MemberKeyError(f"the key is larger than {MAX_KEY_BYTES // 1024} KB")
    if "PRIVATE KEY" in text:
        raise MemberKeyError("that is a private key: send only the public key")
    try:
        with GnuPGHome() as home:
            imported = home.import_keys(text)
            if not imported:
                raise MemberKeyError("this is not an OpenPGP public key gpg can read")
            if len(imported) != 1:
                raise MemberKeyError("give exactly one OpenPGP public key")
            if not home.can_encrypt_to(imported[0]):
                raise MemberKeyError(
                    "the key cannot encrypt (no valid encryption subkey: expired or revoked?)"
                )
    except OpenPGPError:
        raise MemberKeyError("this is not an OpenPGP public key gpg can read") from None
    return text, imported[0]
