"""A received message's OpenPGP: what to decrypt, which signatures to check, which key came with it.

``intake.mime`` walks the MIME tree and calls ``MessageOpenPGP`` where OpenPGP appears: PGP/MIME
(RFC 3156 §4 multipart/encrypted, §5 multipart/signed, §6 both) and inline PGP (an armored
message, RFC 4880 §6.2, or a cleartext signature, RFC 4880 §7, in a text body). Decryption happens
at once, since the walk reads the plaintext; signature checks wait for ``outcome()``, when every
key the message carries (application/pgp-keys parts, armored public key blocks, often inside the
encrypted part) is known. Nothing here logs or raises with a message's contents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from typing import AnyStr

from vulndesk.openpgp.keys import NO_SIGNATURE, GnuPGHome, NotOurKeyError, OpenPGPError, Signature
from vulndesk.openpgp.models import ProjectKey, SignatureStatus
from vulndesk.projects.models import Project

# Each is one gpg run: a message asking for more is refused rather than read.
MAX_OPENPGP_PARTS = 10
MAX_ATTACHED_KEYS = 10
_KEY_BEGIN, _KEY_END = b"-----BEGIN PGP PUBLIC KEY BLOCK-----", b"-----END PGP PUBLIC KEY BLOCK-----"
_MESSAGE_BEGIN, _MESSAGE_END = "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----"
_SIGNED_BEGIN, _SIGNATURE_BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----", "-----BEGIN PGP SIGNATURE-----"
_SIGNATURE_END = "-----END PGP SIGNATURE-----"
# The worst verdict wins: a report is "valid" only if no signature in it failed.
_SEVERITY = [SignatureStatus.INVALID, SignatureStatus.UNKNOWN_KEY, SignatureStatus.VALID]


@dataclass(frozen=True)
class IntakeKey:
    """What the intake reads OpenPGP with: the project's armored secret key ("" if it has none).

    Without a key, encrypted mail is refused as "encrypted to a key this project does not hold";
    signatures are checked all the same.
    """

    secret_key: str = ""
    fingerprint: str = ""


def intake_key(project: Project) -> IntakeKey:
    stored = ProjectKey.objects.filter(project=project).first()
    if stored is None:
        return IntakeKey()
    return IntakeKey(secret_key=stored.secret_key, fingerprint=stored.fingerprint)


@dataclass(frozen=True)
class OpenPGPOutcome:
    """What a message's OpenPGP said, for ``intake.actions.Provenance``."""

    was_encrypted: bool = False
    signature: SignatureStatus = SignatureStatus.NONE
    signer_fingerprint: str = ""
    reporter_key: str = ""  # the reporter's armored public key, exported by gpg: public parts only
    reporter_key_fingerprint: str = ""


class MessageOpenPGP:
    """The OpenPGP of one message; opens its GnuPG home on first use, within ``stack``."""

    def __init__(self, key: IntakeKey, stack: ExitStack) -> None:
        self._key = key
        self._stack = stack
        self._opened: GnuPGHome | None = None
        self._holds_secret_key = False
        self._keys: list[bytes] = []
        self._checks: list[Callable[[], Signature]] = []
        self._runs = 0
        self.was_encrypted = False
        self.problems: list[str] = []  # like ParsedEmail.problems: structure, never content

    def _home(self) -> GnuPGHome:
        if self._opened is None:
            self._opened = self._stack.enter_context(GnuPGHome())
        return self._opened

    def _decrypting_home(self) -> GnuPGHome:
        # The secret key enters the throwaway home only for a message that needs it.
        home = self._home()
        if self._key.secret_key and not self._holds_secret_key:
            home.import_keys(self._key.secret_key)
            self._holds_secret_key = True
        return home

    def _count(self) -> None:
        self._runs += 1
        if self._runs > MAX_OPENPGP_PARTS:
            raise OpenPGPError(f"the message has more than {MAX_OPENPGP_PARTS} OpenPGP parts")

    def learn_keys(self, part: EmailMessage) -> None:
        """Note the public keys a part and its children carry, for checking signatures later."""
        for leaf in part.walk():
            if leaf.is_multipart():
                continue
            payload = leaf.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            if leaf.get_content_type() == "application/pgp-keys":
                self._add_keys([payload])  # RFC 3156 §7: armored or binary
            else:
                self._add_keys(payload[a:b] for a, b in _blocks(payload, _KEY_BEGIN, _KEY_END))

    def _add_keys(self, keys: Iterable[bytes]) -> None:
        for key in keys:
            if len(self._keys) < MAX_ATTACHED_KEYS:
                self._keys.append(key)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """The plaintext; its signature, if any, is checked again later if its key came inside."""
        self._count()
        opened = self._decrypting_home().decrypt(ciphertext)
        self.was_encrypted = self.was_encrypted or opened.was_encrypted
        if opened.signature != NO_SIGNATURE:
            self._checks.append(lambda: self._recheck(ciphertext, opened.signature))
        return opened.plaintext

    def _recheck(self, ciphertext: bytes, first: Signature) -> Signature:
        # RFC 3156 §6.2, signed and encrypted in one: the signer's key is often inside, so
        # unknown at the first decryption; once the keys are imported, decrypt again to check.
        if first.status != SignatureStatus.UNKNOWN_KEY or not self._keys:
            return first
        return self._decrypting_home().decrypt(ciphertext).signature

    def check_detached(self, signed: bytes, signature: bytes) -> None:
        """RFC 3156 §5: the signature covers the signed part with CRLF line ends."""
        self._count()
        canonical = re.sub(rb"\r?\n", b"\r\n", signed)
        self._checks.append(lambda: self._home().verify_detached(canonical, signature))

    def open_inline(self, text: str) -> str:
        """The text with armored messages decrypted and cleartext signatures checked (later)."""
        text = _replace_blocks(text, _MESSAGE_BEGIN, _MESSAGE_END, self._inline_plaintext)
        return _replace_blocks(text, _SIGNED_BEGIN, _SIGNATURE_END, self._inline_signed)

    def _inline_plaintext(self, block: str) -> str:
        try:
            plaintext = self.decrypt(block.encode("utf-8", errors="replace"))
        except NotOurKeyError:
            raise
        except OpenPGPError as exc:
            # A damaged or quoted block: the report around it is still readable.
            self.problems.append(f"an inline OpenPGP message is kept as text: {exc}")
            return block
        self._add_keys(plaintext[a:b] for a, b in _blocks(plaintext, _KEY_BEGIN, _KEY_END))
        return self.open_inline(plaintext.decode("utf-8", errors="replace"))

    def _inline_signed(self, block: str) -> str:
        self._count()
        signed = block.encode("utf-8", errors="replace")
        self._checks.append(lambda: self._home().verify(signed))
        return _cleartext(block)

    def outcome(self) -> OpenPGPOutcome:
        if not self._checks and not self._keys:
            return OpenPGPOutcome(was_encrypted=self.was_encrypted)
        attached = self._import_attached_keys()
        signature = _overall([check() for check in self._checks])
        chosen = _reporter_fingerprint(signature, attached)
        home = self._home()
        usable = bool(chosen) and home.can_encrypt_to(chosen)
        return OpenPGPOutcome(
            was_encrypted=self.was_encrypted,
            signature=signature.status,
            signer_fingerprint=signature.fingerprint,
            reporter_key=home.export_public(chosen) if usable else "",
            reporter_key_fingerprint=chosen if usable else "",
        )

    def _import_attached_keys(self) -> list[str]:
        if not self._keys:
            return []
        fingerprints = self._home().import_keys(b"\n".join(self._keys))
        # The project's own key, quoted back at us, is not the reporter's.
        return [f for f in fingerprints if f != self._key.fingerprint]


def _blocks(text: AnyStr, begin: AnyStr, end: AnyStr) -> Iterator[tuple[int, int]]:
    """Where each armored block starts and ends; linear, since every search moves forward."""
    start = text.find(begin)
    while start != -1:
        stop = text.find(end, start + len(begin))
        if stop == -1:
            return
        stop += len(end)
        yield start, stop
        start = text.find(begin, stop)


def _replace_blocks(text: str, begin: str, end: str, replace: Callable[[str], str]) -> str:
    pieces, last = [], 0
    for start, stop in _blocks(text, begin, end):
        pieces += [text[last:start], replace(text[start:stop])]
        last = stop
    pieces.append(text[last:])
    return "".join(pieces)


def _cleartext(block: str) -> str:
    """The signed text of a cleartext-signed block (RFC 4880 §7): after the armor headers and up
    to the signature, with dash-escaping ("- " before lines starting with "-") undone."""
    lines = [line.rstrip() for line in block.splitlines()]  # §7.1: trailing spaces are not signed
    try:
        first = lines.index("", 1) + 1
        last = lines.index(_SIGNATURE_BEGIN, first)
    except ValueError:
        return block  # malformed: kept as it came, and gpg will call it invalid
    return "\n".join(line.removeprefix("- ") for line in lines[first:last])


def _overall(signatures: list[Signature]) -> Signature:
    for status in _SEVERITY:
        for signature in signatures:
            if signature.status == status:
                return signature
    return NO_SIGNATURE


def _reporter_fingerprint(signature: Signature, attached: list[str]) -> str:
    """The signer's key if it signed well, else the one key attached; "" if that is ambiguous."""
    if signature.status == SignatureStatus.VALID and signature.fingerprint in attached:
        return signature.fingerprint
    if signature.status != SignatureStatus.INVALID and len(attached) == 1:
        return attached[0]
    return ""
