"""Real GnuPG, in a throwaway home that lives for one operation.

Every OpenPGP operation (generate, import, decrypt, verify, encrypt) runs in a fresh GNUPGHOME: a
``tempfile.TemporaryDirectory`` of mode 0700, removed with its gpg-agent when the operation ends.
No keyring persists between operations: keys live in the database only (a project's secret key
sealed), and are imported into the throwaway home for the one message they are needed for.

python-gnupg hands data to gpg on its standard input and reads results from its standard output,
so no message or key ever appears on a command line (where other local users could read it in
/proc). Its 0.5 releases have no timeout, so ``_BoundedGPG`` kills a gpg that runs longer than
``GPG_TIMEOUT_SECONDS``, and stops one whose output passes ``MAX_OUTPUT_BYTES``: a compressed
OpenPGP message (RFC 4880 §5.6) can expand without bound.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import gnupg

from vulndesk.openpgp.models import SignatureStatus

GPG_BINARY = shutil.which("gpg") or "/usr/bin/gpg"
GPGCONF_BINARY = str(Path(GPG_BINARY).with_name("gpgconf"))
GPG_TIMEOUT_SECONDS = 60.0
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
# Every gpg run: no passphrase prompt (keys are stored unprotected, see models.ProjectKey), and no
# network: a signer's key comes with the message or not at all, never from a keyserver.
_GPG_OPTIONS = ["--pinentry-mode", "loopback", "--no-auto-key-retrieve", "--disable-dirmngr"]
_FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")
_PRIMARY_FIELD = 9  # in a VALIDSIG status line (GnuPG doc/DETAILS)
# RFC 4880 §9.4 hash algorithm ids, as RFC 3156 §5 names them in micalg.
_MICALG = {"2": "pgp-sha1", "8": "pgp-sha256", "9": "pgp-sha384", "10": "pgp-sha512", "11": "pgp-sha224"}
# python-gnupg logs at DEBUG the first bytes of what it sends to gpg (keys, messages), and at
# WARNING every non-zero exit, which for us is an ordinary answer (a bad signature) that reaches
# the caller as a result. What matters is reported by our own exceptions, which name no content.
logging.getLogger("gnupg").setLevel(logging.CRITICAL)


class OpenPGPError(Exception):
    """An OpenPGP operation refused the input; the text names the kind of problem, never content."""


class NotOurKeyError(OpenPGPError):
    """A message encrypted to keys we do not hold."""

    def __init__(self, key_ids: list[str]) -> None:
        self.key_ids = key_ids
        named = ", ".join(key_ids) or "an unnamed key"
        super().__init__(f"encrypted to a key this project does not hold: {named}")


class GnuPGUnavailableError(OSError):
    """gpg could not run, or ran too long: a fault of this host, not of the input; try again later."""


@dataclass(frozen=True)
class Signature:
    status: SignatureStatus
    fingerprint: str = ""  # of the signer's primary key, when the signature is good


NO_SIGNATURE = Signature(SignatureStatus.NONE)


@dataclass(frozen=True)
class Decrypted:
    plaintext: bytes
    signature: Signature
    was_encrypted: bool  # False for a message that was only signed (RFC 4880 §5.4 one-pass)


class _BoundedGPG(gnupg.GPG):  # type: ignore[misc]  # python-gnupg has no type hints
    """python-gnupg's GPG with every gpg run bounded in time and in output."""

    on_data: Callable[[bytes], bool | None] | None  # python-gnupg's hook for each chunk of output

    def __init__(self, home: str) -> None:
        self.timed_out = False
        self.overflowed = False
        super().__init__(gpgbinary=GPG_BINARY, gnupghome=home, options=_GPG_OPTIONS)

    def _collect_output(self, process: Any, result: Any, writer: Any = None, stdin: Any = None) -> Any:
        # Every gpg run, python-gnupg's own set-up call included, is collected here.
        timer = threading.Timer(GPG_TIMEOUT_SECONDS, self._expire, (process,))
        timer.daemon = True
        received = 0

        def bounded(chunk: bytes) -> bool | None:
            nonlocal received
            received += len(chunk)
            if received <= MAX_OUTPUT_BYTES:
                return None  # keep the chunk
            self.overflowed = True
            process.kill()
            return False

        self.on_data = bounded
        timer.start()
        try:
            return super()._collect_output(process, result, writer, stdin)
        finally:
            timer.cancel()
            self.on_data = None

    def _expire(self, process: Any) -> None:
        self.timed_out = True
        process.kill()

    def _handle_io(self, args: Any, fileobj_or_path: Any, result: Any, *more: Any, **options: Any) -> Any:
        try:
            return super()._handle_io(args, fileobj_or_path, result, *more, **options)
        except BrokenPipeError:
            # gpg stops reading once it knows its answer (no secret key for this message); what
            # it said is already in ``result``.
            return result


class GnuPGHome:
    """A throwaway GnuPG home, as a context manager; each method is one bounded gpg run.

    It is made in the temporary folder (TMPDIR), which must have a short path: unless
    /run/user/<uid> exists, gpg-agent puts its sockets in the home, and a Unix socket's path
    holds at most 107 bytes.
    """

    def __enter__(self) -> Self:
        self._folder = tempfile.TemporaryDirectory(prefix="vulndesk-gnupg-")
        Path(self._folder.name).chmod(0o700)
        try:
            self._gpg = _BoundedGPG(self._folder.name)
        except (OSError, ValueError) as exc:
            self._folder.cleanup()
            raise GnuPGUnavailableError(f"gpg cannot run ({type(exc).__name__})") from None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            # The agent gpg started for this home would otherwise outlive it.
            subprocess.run(  # noqa: S603 - fixed arguments, no input
                [GPGCONF_BINARY, "--homedir", self._folder.name, "--kill", "all"],
                capture_output=True,
                timeout=GPG_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            pass  # the home, and the secret keys in it, go all the same
        finally:
            self._folder.cleanup()

    def _checked(self, result: Any) -> Any:
        if self._gpg.timed_out:
            raise GnuPGUnavailableError(f"gpg ran longer than {GPG_TIMEOUT_SECONDS:.0f} seconds")
        if self._gpg.overflowed:
            raise OpenPGPError(f"the decrypted message is larger than {MAX_OUTPUT_BYTES // 2**20} MiB")
        return result

    # --- keys -------------------------------------------------------------------------------

    def generate(self, name: str, address: str) -> str:
        """A new key pair without expiry or passphrase; its fingerprint.

        Ed25519 for signing and certifying, Curve25519 for encryption: fast to generate and use,
        and read by every current OpenPGP implementation.
        """
        batch = "\n".join(
            [
                "Key-Type: EDDSA",
                "Key-Curve: ed25519",
                "Key-Usage: sign",
                "Subkey-Type: ECDH",
                "Subkey-Curve: cv25519",
                "Subkey-Usage: encrypt",
                f"Name-Real: {_batch_value(name)}",
                f"Name-Email: {_batch_value(address)}",
                "Expire-Date: 0",
                "%no-protection",  # see models.ProjectKey: the sealing protects the stored key
                "%commit",
                "",
            ]
        )
        result = self._checked(self._gpg.gen_key(batch))
        if not result.fingerprint:
            raise OpenPGPError("gpg could not generate a key")
        return str(result.fingerprint)

    def import_keys(self, armored: str | bytes) -> list[str]:
        """Import keys; the fingerprints of the primary keys read, in order, without repeats."""
        data = armored.encode() if isinstance(armored, str) else armored
        result = self._checked(self._gpg.import_keys(data))
        return list(dict.fromkeys(str(f).upper() for f in result.fingerprints if f))

    def secret_fingerprints(self) -> list[str]:
        return [str(key["fingerprint"]) for key in self._checked(self._gpg.list_keys(secret=True))]

    def public_fingerprints(self) -> list[str]:
        return [str(key["fingerprint"]) for key in self._checked(self._gpg.list_keys())]

    def can_encrypt_to(self, fingerprint: str) -> bool:
        """Whether the key has a usable encryption subkey (upper-case "E" in its capabilities)."""
        keys = self._checked(self._gpg.list_keys(keys=[_checked_fingerprint(fingerprint)]))
        return any("E" in str(key.get("cap", "")) for key in keys)

    def export_public(self, fingerprint: str) -> str:
        armored = self._checked(self._gpg.export_keys(_checked_fingerprint(fingerprint)))
        if "BEGIN PGP PUBLIC KEY BLOCK" not in armored:
            raise OpenPGPError("gpg could not export the public key")
        return str(armored)

    def export_secret(self, fingerprint: str) -> str:
        armored = self._checked(
            self._gpg.export_keys(_checked_fingerprint(fingerprint), secret=True, expect_passphrase=False)
        )
        if "BEGIN PGP PRIVATE KEY BLOCK" not in armored:
            raise OpenPGPError("gpg could not export the secret key (is it protected by a passphrase?)")
        return str(armored)

    # --- messages ---------------------------------------------------------------------------

    def decrypt(self, message: bytes) -> Decrypted:
        """Decrypt (and check the signature inside, RFC 4880 §5.2) with the keys imported here."""
        result = self._checked(self._gpg.decrypt(message))
        status = _status_lines(result)
        keywords = {keyword for keyword, _ in status}
        encrypted = "BEGIN_DECRYPTION" in keywords
        readable = "DECRYPTION_OKAY" in keywords or (not encrypted and "PLAINTEXT" in keywords)
        if not readable or "DECRYPTION_FAILED" in keywords:
            raise _decryption_failure(status)
        return Decrypted(bytes(result.data), signature_of(status), was_encrypted=encrypted)

    def verify_detached(self, data: bytes, signature: bytes) -> Signature:
        """Check a detached signature over ``data`` (RFC 3156 §5: the signed part, canonical CRLF)."""
        # The signature goes in a file of this 0700 home (gpg reads data or signature from stdin,
        # not both); it is no secret, and goes with the home.
        path = Path(self._folder.name) / "signature"
        path.write_bytes(signature)
        try:
            return signature_of(_status_lines(self._checked(self._gpg.verify_data(str(path), data))))
        finally:
            path.unlink()

    def verify(self, signed: bytes) -> Signature:
        """Check a cleartext-signed text (RFC 4880 §7) or a signed message."""
        return signature_of(_status_lines(self._checked(self._gpg.verify(signed))))

    def clearsign(self, text: str, fingerprint: str) -> str:
        """``text`` as an OpenPGP cleartext signature (RFC 4880 §7) by the secret key imported here."""
        result = self._checked(
            self._gpg.sign(text.encode(), keyid=_checked_fingerprint(fingerprint), clearsign=True)
        )
        signed = bytes(result.data).decode("utf-8")
        if "-----BEGIN PGP SIGNATURE-----" not in signed:
            raise OpenPGPError("gpg could not sign with the key (no secret key, or it needs a passphrase?)")
        return signed

    def encrypt(self, data: bytes, fingerprint: str, *, signer: str = "") -> str:
        """Armored ciphertext for one recipient key, trusted because the caller names it exactly;
        signed inside by ``signer``'s secret key when given (RFC 3156 §6.2: one OpenPGP message)."""
        sign = _checked_fingerprint(signer) if signer else None
        result = self._checked(
            self._gpg.encrypt(
                data, [_checked_fingerprint(fingerprint)], always_trust=True, armor=True, sign=sign
            )
        )
        if not result.ok:
            raise OpenPGPError("gpg could not encrypt to the key (expired, revoked or no encryption subkey?)")
        return bytes(result.data).decode("ascii")

    def sign_detached(self, data: bytes, signer: str) -> tuple[str, str]:
        """An armored detached signature over ``data`` and its RFC 3156 ``micalg`` name."""
        result = self._checked(
            self._gpg.sign(data, keyid=_checked_fingerprint(signer), detach=True, binary=False)
        )
        micalg = _MICALG.get(str(getattr(result, "hash_algo", "") or ""))
        if not result.data or micalg is None:
            raise OpenPGPError("gpg could not sign with the project's key")
        return bytes(result.data).decode("ascii"), micalg


def _batch_value(value: str) -> str:
    # One line per parameter in gpg's batch format: a line break would start another parameter.
    return " ".join(value.replace("<", "").replace(">", "").split())


def _checked_fingerprint(fingerprint: str) -> str:
    if not _FINGERPRINT.match(fingerprint):
        raise OpenPGPError("not a key fingerprint")
    return fingerprint


def _status_lines(result: Any) -> list[tuple[str, str]]:
    """gpg's machine-readable status lines (``--status-fd``, doc/DETAILS in GnuPG)."""
    lines = []
    for line in str(result.stderr or "").splitlines():
        if line.startswith("[GNUPG:] "):
            keyword, _, value = line[len("[GNUPG:] ") :].partition(" ")
            lines.append((keyword, value.strip()))
    return lines


def signature_of(status: list[tuple[str, str]]) -> Signature:
    """The verdict on the signatures gpg checked: any bad one makes the whole invalid."""
    keywords = {keyword for keyword, _ in status}
    if keywords & {"BADSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG"}:
        return Signature(SignatureStatus.INVALID)
    if "ERRSIG" in keywords:
        # ERRSIG with NO_PUBKEY: the signature may be good, we lack the key to tell.
        missing = "NO_PUBKEY" in keywords
        return Signature(SignatureStatus.UNKNOWN_KEY if missing else SignatureStatus.INVALID)
    valid = [value.split() for keyword, value in status if keyword == "VALIDSIG"]
    if "GOODSIG" in keywords and valid:
        # VALIDSIG's tenth field is the primary key's fingerprint (the first, the signing subkey's).
        fields = valid[0]
        primary = fields[_PRIMARY_FIELD] if len(fields) > _PRIMARY_FIELD else fields[0]
        return Signature(SignatureStatus.VALID, primary.upper())
    return NO_SIGNATURE


def _decryption_failure(status: list[tuple[str, str]]) -> OpenPGPError:
    keywords = {keyword for keyword, _ in status}
    if "NO_SECKEY" in keywords:
        key_ids = [value.split()[0] for keyword, value in status if keyword == "ENC_TO" and value]
        return NotOurKeyError(list(dict.fromkeys(key_ids)))
    if "NEED_PASSPHRASE_SYM" in keywords:
        return OpenPGPError("encrypted with a passphrase, not to this project's key")
    if "BADMDC" in keywords:
        return OpenPGPError("the encrypted message was modified after it was encrypted")
    if "NODATA" in keywords:
        return OpenPGPError("the encrypted part holds no OpenPGP data")
    return OpenPGPError("the OpenPGP message could not be decrypted")
