"""OpenPGP with real GnuPG: a project's key, encrypted and signed reports, and encrypted replies.

Rita the reporter has her own key pair, made once for this module in her own GnuPG home; Sam is a
stranger whose key no project holds. Reports reach the real SMTP intake on a loopback port.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import gnupg
import pytest
from django.core.mail import EmailMessage as DjangoEmail
from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk import crypto
from vulndesk.audit.models import AuditEvent
from vulndesk.cli import main
from vulndesk.intake.actions import digest
from vulndesk.intake.mail import parse_report_email
from vulndesk.intake.models import Report, ReportAttachment
from vulndesk.intake.smtpd import IntakeHandler, intake_controller
from vulndesk.notify.models import OutboundEmail
from vulndesk.notify.tasks import deliver
from vulndesk.openpgp.actions import ProjectKeyError, do_generate_project_key, do_import_project_key
from vulndesk.openpgp.inbound import IntakeKey
from vulndesk.openpgp.keys import GPGCONF_BINARY, GnuPGHome, GnuPGUnavailableError
from vulndesk.openpgp.models import ProjectKey, ReporterKey, SignatureStatus
from vulndesk.projects.models import Project
from vulndesk.rotation import rotate

from .live import free_port
from .test_smtp_intake import INTAKE_A, RITA, send

MARKER = "Xyzzy-7f3a: the scheduler leaks tokens"
TRACKING = re.compile(r"http://testserver/t/([A-Za-z0-9_-]+)/")


@dataclass
class Correspondent:
    """Someone outside vulndesk with their own GnuPG home: Rita, or Sam."""

    gpg: gnupg.GPG
    fingerprint: str

    def public_key(self) -> str:
        return str(self.gpg.export_keys(self.fingerprint))

    def secret_key(self) -> str:
        return str(self.gpg.export_keys(self.fingerprint, secret=True, expect_passphrase=False))

    def encryption_key_id(self) -> str:
        [key] = self.gpg.list_keys(keys=[self.fingerprint])
        return str(next(sub[0] for sub in key["subkeys"] if "e" in sub[1]))

    def encrypt(self, data: bytes, to: str, *, sign: bool = False) -> str:
        """To the key ``to`` (armored), signed by this correspondent if asked (RFC 3156 §6.2)."""
        [recipient] = self.gpg.import_keys(to).fingerprints
        result = self.gpg.encrypt(
            data, [recipient], always_trust=True, sign=self.fingerprint if sign else None
        )
        assert result.ok, result.status
        return bytes(result.data).decode()

    def sign_detached(self, data: bytes) -> bytes:
        return bytes(self.gpg.sign(data, keyid=self.fingerprint, detach=True).data)

    def clearsign(self, text: str) -> str:
        return bytes(self.gpg.sign(text.encode(), keyid=self.fingerprint, clearsign=True).data).decode()

    def decrypt(self, data: bytes) -> bytes:
        result = self.gpg.decrypt(data)
        assert result.ok, result.status
        return bytes(result.data)


def _new_key(gpg: gnupg.GPG, name: str, address: str) -> str:
    batch = (
        "Key-Type: EDDSA\nKey-Curve: ed25519\nSubkey-Type: ECDH\nSubkey-Curve: cv25519\n"
        f"Name-Real: {name}\nName-Email: {address}\nExpire-Date: 0\n%no-protection\n%commit\n"
    )
    return str(gpg.gen_key(batch).fingerprint)


@pytest.fixture(scope="module")
def outside_home() -> Iterator[gnupg.GPG]:
    with tempfile.TemporaryDirectory(prefix="rita-gnupg-") as home:
        yield gnupg.GPG(gnupghome=home, options=["--pinentry-mode", "loopback"])
        subprocess.run([GPGCONF_BINARY, "--homedir", home, "--kill", "all"], check=False)


@pytest.fixture(scope="module")
def rita(outside_home: gnupg.GPG) -> Correspondent:
    return Correspondent(outside_home, _new_key(outside_home, "Rita Reporter", RITA))


@pytest.fixture(scope="module")
def sam(outside_home: gnupg.GPG) -> Correspondent:
    return Correspondent(outside_home, _new_key(outside_home, "Sam Stranger", "sam@elsewhere.test"))


@pytest.fixture
def llm_d_key(project_a: Project) -> ProjectKey:
    return do_generate_project_key(project_a, acting_user=None)


@pytest.fixture
def intake(transactional_db: None, llm_d_key: ProjectKey) -> Iterator[int]:
    """The real SMTP intake on a free port, for llm-d, which holds a key."""
    port = free_port()
    controller = intake_controller("127.0.0.1", port, IntakeHandler())
    controller.start()
    yield port
    controller.stop()


def headers(subject: str = "Token leak", message_id: str = "<pgp@researcher.test>") -> bytes:
    return (
        f"From: Rita Reporter <{RITA}>\r\nTo: {INTAKE_A}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
    ).encode()


def crlf(text: str) -> bytes:
    return re.sub(r"\r?\n", "\r\n", text).encode()


def entity(text: str, *, key: str = "") -> bytes:
    """A MIME entity: the text, and the sender's public key attached if given (RFC 3156 §7)."""
    parts = b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + crlf(text) + b"\r\n"
    if key:
        parts += (
            b"--inner\r\nContent-Type: application/pgp-keys\r\n"
            b'Content-Disposition: attachment; filename="rita.asc"\r\n\r\n' + crlf(key)
        )
    return b'Content-Type: multipart/mixed; boundary="inner"\r\n\r\n' + parts + b"--inner--\r\n"


def pgp_mime(armored: str, **header: str) -> bytes:
    """RFC 3156 §4: multipart/encrypted, a control part, then the OpenPGP message."""
    return (
        headers(**header)
        + b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"\r\n\r\n'
        b"--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
        b'--enc\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
        + crlf(armored)
        + b"\r\n--enc--\r\n"
    )


def pgp_signed(signed: bytes, signature: bytes) -> bytes:
    """RFC 3156 §5: multipart/signed, the signed entity exactly as signed, then the signature."""
    return (
        headers()
        + b'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature";'
        b' boundary="sig"\r\n\r\n--sig\r\n'
        + signed
        + b"\r\n--sig\r\nContent-Type: application/pgp-signature; name=signature.asc\r\n\r\n"
        + crlf(signature.decode())
        + b"\r\n--sig--\r\n"
    )


def inline(text: str) -> bytes:
    return headers() + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + crlf(text) + b"\r\n"


def only_report() -> Report:
    return Report.objects.get()


def stored_in_clear() -> str:
    """Every column of every report and attachment row, as the database holds them."""
    rows = [*Report.objects.values(), *ReportAttachment.objects.values(), *ReporterKey.objects.values()]
    return repr(rows)


# A project's key ------------------------------------------------------------------------------


def test_an_operator_generates_a_key_and_exports_only_its_public_half(
    project_a: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django is set up already; setting it up again would point logging at this test's captured
    # stderr, closed once the test ends, and the SMTP tests' logging would fail to write.
    monkeypatch.setattr("vulndesk.cli._setup_django", lambda: None)
    assert main(["key", "generate", "llm-d"]) == 0
    key = ProjectKey.objects.get(project=project_a)
    assert re.fullmatch(r"[0-9A-F]{40}", key.fingerprint)
    assert key.spaced_fingerprint in capsys.readouterr().out
    assert main(["key", "export", "llm-d"]) == 0
    exported = capsys.readouterr().out
    assert exported.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in exported
    assert "BEGIN PGP PRIVATE KEY BLOCK" in key.secret_key
    assert "PRIVATE" not in key.sealed_private_key, "the secret key is sealed at rest"
    with GnuPGHome() as home:
        [fingerprint] = home.import_keys(exported)
        assert fingerprint == key.fingerprint
        [user_id] = home._gpg.list_keys()[0]["uids"]
    assert user_id == "llm-d security team <llm-d-security-reporting@googlegroups.com>"
    assert AuditEvent.objects.filter(action="project.openpgp_key_generated").count() == 1


def test_a_second_key_needs_an_explicit_replace(llm_d_key: ProjectKey, project_a: Project) -> None:
    with pytest.raises(ProjectKeyError, match="already has the key"):
        do_generate_project_key(project_a, acting_user=None)
    replaced = do_generate_project_key(project_a, acting_user=None, replace=True)
    assert ProjectKey.objects.get().fingerprint == replaced.fingerprint != llm_d_key.fingerprint


def test_importing_a_public_key_alone_is_refused(project_b: Project, rita: Correspondent) -> None:
    with pytest.raises(ProjectKeyError, match="public key only"):
        do_import_project_key(project_b, rita.public_key(), acting_user=None)
    assert not ProjectKey.objects.exists()


def test_importing_several_keys_at_once_is_refused(
    project_b: Project, rita: Correspondent, sam: Correspondent
) -> None:
    with pytest.raises(ProjectKeyError, match="holds 2 keys"):
        do_import_project_key(project_b, rita.secret_key() + sam.secret_key(), acting_user=None)


def test_the_teams_own_secret_key_imports(project_b: Project, sam: Correspondent) -> None:
    key = do_import_project_key(project_b, sam.secret_key(), acting_user=None)
    assert (key.fingerprint, key.source) == (sam.fingerprint, "imported")
    assert AuditEvent.objects.filter(action="project.openpgp_key_imported").count() == 1


def test_the_gnupg_home_is_private_and_gone_after_the_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    # A short folder of our own (not tmp_path): gpg-agent's socket paths must fit in 108 bytes.
    with tempfile.TemporaryDirectory(prefix="vd-") as watched:
        monkeypatch.setattr(tempfile, "tempdir", watched)
        with GnuPGHome() as home:
            folder = Path(home._folder.name)
            assert folder.stat().st_mode & 0o777 == 0o700
            home.generate("Throwaway", "throwaway@example.test")
        assert not folder.exists()
        assert list(Path(watched).iterdir()) == []


def test_security_txt_points_to_the_key_which_is_served_as_text(client: Client, project_a: Project) -> None:
    assert "Encryption:" not in client.get("/p/llm-d/security.txt").content.decode()
    assert client.get("/p/llm-d/openpgp.asc").status_code == 404
    key = do_generate_project_key(project_a, acting_user=None)
    assert (
        "Encryption: http://testserver/p/llm-d/openpgp.asc\n"
        in client.get("/p/llm-d/security.txt").content.decode()
    )
    served = client.get("/p/llm-d/openpgp.asc")
    assert served["Content-Type"] == "text/plain; charset=utf-8"
    assert served.content.decode() == key.public_key
    assert key.spaced_fingerprint in client.get("/p/llm-d/SECURITY.md").content.decode()
    assert key.spaced_fingerprint in client.get("/p/llm-d/").content.decode()


def test_rotating_the_sealing_keys_reseals_openpgp_keys(llm_d_key: ProjectKey, settings: Settings) -> None:
    old = settings.ENCRYPTION_KEYS
    settings.ENCRYPTION_KEYS = "new:" + "n" * 40 + "," + old
    crypto.keyring.cache_clear()
    try:
        assert rotate()["openpgp.ProjectKey.sealed_private_key"] == 1
        settings.ENCRYPTION_KEYS = "new:" + "n" * 40
        crypto.keyring.cache_clear()
        assert "PRIVATE KEY" in ProjectKey.objects.get().secret_key
    finally:
        settings.ENCRYPTION_KEYS = old
        crypto.keyring.cache_clear()


# Encrypted and signed reports over SMTP ------------------------------------------------------


def test_a_pgp_mime_report_arrives_decrypted_and_sealed(
    intake: int, llm_d_key: ProjectKey, rita: Correspondent
) -> None:
    armored = rita.encrypt(entity(f"Steps to reproduce.\n{MARKER}\n"), llm_d_key.public_key)
    assert send(intake, pgp_mime(armored)) == (250, "2.0.0 Report #1 received")
    report = only_report()
    assert report.was_encrypted
    assert MARKER in report.fields["description"]
    assert (report.signature, report.signer_fingerprint) == (SignatureStatus.NONE, "")
    assert MARKER not in stored_in_clear()
    assert "Steps to reproduce" not in stored_in_clear()
    assert not ReporterKey.objects.exists()


def test_an_inline_pgp_report_arrives_decrypted(
    intake: int, llm_d_key: ProjectKey, rita: Correspondent
) -> None:
    armored = rita.encrypt(f"{MARKER}\n".encode(), llm_d_key.public_key)
    assert send(intake, inline(f"Please read:\n\n{armored}"))[0] == 250
    report = only_report()
    assert report.was_encrypted
    assert report.fields["description"] == f"Please read:\n\n{MARKER}"
    assert MARKER not in stored_in_clear()


def test_a_signed_and_encrypted_report_with_its_key_is_valid_and_the_key_kept(
    intake: int, llm_d_key: ProjectKey, rita: Correspondent
) -> None:
    inner = entity(MARKER, key=rita.public_key())
    assert send(intake, pgp_mime(rita.encrypt(inner, llm_d_key.public_key, sign=True)))[0] == 250
    report = only_report()
    assert (report.was_encrypted, report.signature) == (True, SignatureStatus.VALID)
    assert report.signer_fingerprint == rita.fingerprint
    kept = ReporterKey.objects.get(report=report)
    assert kept.fingerprint == rita.fingerprint
    assert "BEGIN PGP PUBLIC KEY BLOCK" in kept.public_key
    assert "PUBLIC KEY" not in stored_in_clear(), "a reporter's key is sealed"


def test_a_signature_over_changed_content_is_invalid(intake: int, rita: Correspondent) -> None:
    signed = entity("The exploit needs no authentication.", key=rita.public_key())
    message = pgp_signed(signed, rita.sign_detached(signed))
    assert send(intake, message.replace(b"needs no", b"needs an"))[0] == 250
    report = only_report()
    assert (report.was_encrypted, report.signature, report.signer_fingerprint) == (
        False,
        SignatureStatus.INVALID,
        "",
    )
    assert not ReporterKey.objects.exists(), "a key whose signature failed is not kept"


def test_a_good_detached_signature_with_the_key_inside_is_valid(intake: int, rita: Correspondent) -> None:
    signed = entity("The exploit needs no authentication.", key=rita.public_key())
    assert send(intake, pgp_signed(signed, rita.sign_detached(signed)))[0] == 250
    report = only_report()
    assert (report.signature, report.signer_fingerprint) == (SignatureStatus.VALID, rita.fingerprint)
    assert report.fields["description"] == "The exploit needs no authentication."


def test_a_clearsigned_report_without_the_key_is_signed_by_an_unknown_key(
    intake: int, rita: Correspondent
) -> None:
    assert send(intake, inline(rita.clearsign(f"{MARKER}\n-- dashes survive\n")))[0] == 250
    report = only_report()
    assert (report.signature, report.signer_fingerprint) == (SignatureStatus.UNKNOWN_KEY, "")
    assert report.fields["description"] == f"{MARKER}\n-- dashes survive"


def test_a_report_encrypted_to_a_key_the_project_does_not_hold_is_refused(
    intake: int, rita: Correspondent, sam: Correspondent
) -> None:
    armored = rita.encrypt(entity(MARKER), sam.public_key())
    code, reply = send(intake, pgp_mime(armored))
    assert code == 550
    assert reply == f"5.7.5 encrypted to a key this project does not hold: {sam.encryption_key_id()}"
    assert not Report.objects.exists()


def test_a_project_without_a_key_refuses_encrypted_mail_the_same_way(
    project_a: Project, rita: Correspondent, sam: Correspondent
) -> None:
    with pytest.raises(ValueError, match="does not hold"):
        parse_report_email(pgp_mime(rita.encrypt(entity(MARKER), sam.public_key())), IntakeKey())


def test_nothing_a_reporter_encrypted_reaches_the_log(
    intake: int, llm_d_key: ProjectKey, rita: Correspondent, caplog: pytest.LogCaptureFixture
) -> None:
    inner = entity(MARKER, key=rita.public_key())
    with caplog.at_level(logging.DEBUG):
        assert send(intake, pgp_mime(rita.encrypt(inner, llm_d_key.public_key, sign=True)))[0] == 250
        junk = pgp_mime("junk", message_id="<junk@researcher.test>")
        assert send(intake, junk) == (550, "5.7.5 the encrypted part holds no OpenPGP data")
    assert MARKER not in caplog.text


def test_a_damaged_inline_block_stays_text_and_the_report_is_read(llm_d_key: ProjectKey) -> None:
    damaged = "Quoted from the list:\n-----BEGIN PGP MESSAGE-----\n\nnot base64\n-----END PGP MESSAGE-----\n"
    parsed = parse_report_email(inline(damaged), IntakeKey(llm_d_key.secret_key, llm_d_key.fingerprint))
    assert parsed.submission.description.replace("\r\n", "\n") == damaged.strip()
    assert not parsed.openpgp.was_encrypted
    assert any(problem.startswith("an inline OpenPGP message is kept as text") for problem in parsed.problems)


def test_when_gpg_cannot_run_the_sender_is_told_to_retry(
    intake: int, llm_d_key: ProjectKey, rita: Correspondent, monkeypatch: pytest.MonkeyPatch
) -> None:
    armored = rita.encrypt(entity(MARKER), llm_d_key.public_key)
    monkeypatch.setattr("vulndesk.openpgp.keys.GPG_BINARY", "/nonexistent/gpg")
    assert send(intake, pgp_mime(armored)) == (451, "4.3.0 temporary failure, try again later")
    assert not Report.objects.exists()


def test_a_gpg_that_hangs_is_stopped(
    llm_d_key: ProjectKey, rita: Correspondent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanging = tmp_path / "gpg"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    hanging.chmod(0o755)
    monkeypatch.setattr("vulndesk.openpgp.keys.GPG_BINARY", str(hanging))
    monkeypatch.setattr("vulndesk.openpgp.keys.GPG_TIMEOUT_SECONDS", 0.5)
    message = pgp_mime(rita.encrypt(entity(MARKER), llm_d_key.public_key))
    with pytest.raises(GnuPGUnavailableError):
        parse_report_email(message, IntakeKey(llm_d_key.secret_key, llm_d_key.fingerprint))


def test_the_protected_subject_inside_an_encrypted_message_is_the_title(
    llm_d_key: ProjectKey, rita: Correspondent
) -> None:
    inner = b"Subject: Token leak in the scheduler\r\n" + entity(MARKER)
    message = pgp_mime(rita.encrypt(inner, llm_d_key.public_key), subject="...")
    parsed = parse_report_email(message, IntakeKey(llm_d_key.secret_key, llm_d_key.fingerprint))
    assert parsed.submission.title == "Token leak in the scheduler"


# Mail back to a reporter with a key ----------------------------------------------------------


def test_the_acknowledgement_to_a_reporter_with_a_key_is_pgp_mime(
    intake: int,
    llm_d_key: ProjectKey,
    rita: Correspondent,
    mailoutbox: list[DjangoEmail],
) -> None:
    inner = entity(MARKER, key=rita.public_key())
    assert send(intake, pgp_mime(rita.encrypt(inner, llm_d_key.public_key, sign=True)))[0] == 250
    outbound = OutboundEmail.objects.get(kind="report-received")
    assert deliver(str(outbound.uid)) == "sent"
    raw = mailoutbox[0].message().as_bytes()
    sent = message_from_bytes(raw, policy=policy.default)
    assert isinstance(sent, EmailMessage)
    assert sent.get_content_type() == "multipart/encrypted"
    assert sent.get_param("protocol") == "application/pgp-encrypted"
    assert sent["Message-ID"] == outbound.message_id
    assert sent["To"] == RITA
    control, encrypted = sent.iter_parts()
    assert control.get_content_type() == "application/pgp-encrypted"
    ciphertext = encrypted.get_payload(decode=True)
    assert isinstance(ciphertext, bytes)
    body = rita.decrypt(ciphertext).decode()
    # The subject names the report: it travels inside (RFC 9788), the outer one is obscured.
    assert sent["Subject"] == "[...]"
    decrypted = message_from_bytes(body.encode(), policy=policy.default)
    assert isinstance(decrypted, EmailMessage)
    assert decrypted.get_param("hp") == "cipher"
    assert decrypted.get_param("protected-headers") == "v1"
    assert "Subject: [...]" in decrypted.get_all("HP-Outer", [])  # what the wrapper showed (RFC 9788)
    assert str(decrypted["Subject"]).startswith("[")
    assert str(decrypted["Subject"]) != "[...]"
    assert str(decrypted["Message-ID"]) == outbound.message_id
    token = TRACKING.search(body)
    assert token is not None
    assert digest(token.group(1)) == only_report().tracking_digest
    # Searched as the whole link and as the token: base64 may well hold a "/t/" by chance.
    assert "testserver/t/" not in raw.decode()
    assert token.group(1) not in raw.decode(), "the tracking link travels encrypted only"


def test_mail_to_a_reporter_without_a_key_is_signed_not_encrypted(
    intake: int, llm_d_key: ProjectKey, rita: Correspondent, mailoutbox: list[DjangoEmail]
) -> None:
    assert send(intake, pgp_mime(rita.encrypt(entity(MARKER), llm_d_key.public_key)))[0] == 250
    outbound = OutboundEmail.objects.get(kind="report-received")
    assert deliver(str(outbound.uid)) == "sent"
    sent = message_from_bytes(mailoutbox[0].message().as_bytes(), policy=policy.default)
    assert isinstance(sent, EmailMessage)
    # Readable as it is, with the project's signature beside it (tests/test_mail_as_read.py verifies it).
    assert sent.get_content_type() == "multipart/signed"
    body, _signature = sent.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    text = next(part for part in body.walk() if part.get_content_type() == "text/plain")
    assert TRACKING.search(str(text.get_content()))


def test_a_signed_part_is_only_found_where_the_boundary_is_unambiguous() -> None:
    from vulndesk.intake.mime import _signed_part  # noqa: PLC0415

    honest = (
        b"Content-Type: multipart/signed; boundary=B\r\n\r\n"
        b"--B\r\nsigned text\r\n--B\r\nsignature\r\n--B--\r\n"
    )
    assert _signed_part(honest, "B") == b"signed text"
    planted = (
        b"Content-Type: multipart/mixed; boundary=O\r\n\r\n--O\r\n\r\n--B\r\nbytes once signed\r\n--B\r\n"
        b"--O\r\nContent-Type: multipart/signed; boundary=B\r\n\r\n"
        b"--B\r\nattacker text\r\n--B\r\nsig\r\n--B--\r\n--O--\r\n"
    )
    assert _signed_part(planted, "B") is None
