"""Mail to a reporter who sent us their key goes out encrypted to it, as PGP/MIME (RFC 3156 §4),
and signed inside with the project's key when it has one (§6.2: sign, then encrypt, one OpenPGP
message); so does every mail encrypted to a distributor member. Mail to a reporter without a key
is signed (multipart/signed with a detached signature, §5) when the project has a key, so the
reporter can tell it came from the project whose key security.txt names.

The whole body (the text and HTML alternatives, with their MIME headers) is encrypted; the outer
message keeps what relays need: addresses, date and the outbox's stable Message-ID. The subject
can name a case and what happened to it, so it travels inside, as a protected header (RFC 9788),
and the outer one is the obscured "[...]" that mail clients replace with the inner one.
A mail that goes out unencrypted (a reporter without a usable key) keeps its subject in clear:
subjects name the project and the report number, never a report's title or text.
"""

from __future__ import annotations

import copy
import logging
import quopri
import re
import uuid
from email import policy
from email.encoders import encode_7or8bit
from email.message import Message
from email.mime.application import MIMEApplication

from django.core.mail import EmailMessage
from django.core.mail.message import SafeMIMEMultipart

from vulndesk.notify.models import OutboundEmail
from vulndesk.openpgp.keys import GnuPGHome, OpenPGPError
from vulndesk.openpgp.models import ProjectKey, ReporterKey

logger = logging.getLogger(__name__)

_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTENT_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}
_BODY_HEADERS = {"content-type", "content-transfer-encoding"}
# RFC 9788 §4.2: the headers copied into the encrypted part; the outer Subject is obscured.
_PROTECTED = ("From", "To", "Cc", "Reply-To", "Date", "Message-ID", "Subject")
OBSCURED_SUBJECT = "[...]"


def for_recipient(outbound: OutboundEmail, mail: EmailMessage, *, required_key: str = "") -> EmailMessage:
    """``mail`` encrypted to the reporter's key when it goes to that reporter alone, signed by
    the project's key inside; signed only, for a reporter without a key; else as is.

    A key gpg cannot encrypt to (expired or revoked since) leaves the mail as it would go to a
    reporter without a key, and says so in the log. Mail with a ``required_key`` (embargoed
    notices) is encrypted to it, and signed, or raises: it never leaves in clear.
    """
    signer = _project_key(outbound)
    if required_key:
        return _encrypted(mail, required_key, signer)
    if not _to_reporter_alone(outbound, mail.to):
        return mail
    key = _reporter_key(outbound)
    if key is not None:
        try:
            return _encrypted(mail, key, signer)
        except OpenPGPError as exc:
            # Only the kind: gpg's own text can quote the key's user ids (the reporter's name and address).
            logger.warning(
                "outbound %s: the reporter's key cannot be used (%s); sent unencrypted",
                outbound.uid,
                type(exc).__name__,
            )
    return _signed_if_possible(outbound, mail, signer)


def _signed_if_possible(
    outbound: OutboundEmail, mail: EmailMessage, signer: ProjectKey | None
) -> EmailMessage:
    if signer is None:
        return mail
    try:
        return _signed(mail, signer)
    except OpenPGPError as exc:
        # A signature is a courtesy to the reporter: the mail goes without one rather than not at all.
        logger.warning("outbound %s: not signed (%s)", outbound.uid, type(exc).__name__)
        return mail


def _to_reporter_alone(outbound: OutboundEmail, recipients: list[str]) -> bool:
    """Mail to a report's reporter and nobody else: only then is their key used or ours shown."""
    report = outbound.report
    if report is None:
        return False
    address = str(report.reporter.get("email", "")).strip().lower()
    return [r.strip().lower() for r in recipients] == [address]


def _project_key(outbound: OutboundEmail) -> ProjectKey | None:
    if outbound.project_id is None:
        return None
    return ProjectKey.objects.filter(project_id=outbound.project_id).first()


def _reporter_key(outbound: OutboundEmail) -> str | None:
    # Only the reporter holds the key: the caller checked that the mail goes to them alone.
    stored = ReporterKey.objects.filter(report=outbound.report).first()
    return stored.public_key if stored is not None else None


def _encrypted(mail: EmailMessage, public_key: str, signer: ProjectKey | None) -> EmailMessage:
    clear = mail.message()
    with GnuPGHome() as home:
        imported = home.import_keys(public_key)
        if len(imported) != 1:
            raise OpenPGPError("the stored key is not one public key")
        signing = _import_signer(home, signer) if signer is not None else ""
        armored = home.encrypt(_body_entity(clear), imported[0], signer=signing)
    return _PrebuiltEmail(mail, _pgp_mime(clear, armored))


def _import_signer(home: GnuPGHome, signer: ProjectKey) -> str:
    if signer.fingerprint not in home.import_keys(signer.secret_key):
        raise OpenPGPError("the project's secret key does not import")
    return signer.fingerprint


def _signed(mail: EmailMessage, signer: ProjectKey) -> EmailMessage:
    clear = mail.message()
    signature = MIMEApplication(b"", "pgp-signature", _encoder=encode_7or8bit, name="signature.asc")
    signature["Content-Description"] = "OpenPGP digital signature"
    signature["Content-Disposition"] = 'attachment; filename="signature.asc"'
    outer = _pgp_signed(clear, _signable_entity(clear), signature)
    with GnuPGHome() as home:
        armored, micalg = home.sign_detached(_first_part_as_sent(outer), _import_signer(home, signer))
    outer.set_param("micalg", micalg)
    signature.set_payload(armored)
    return _PrebuiltEmail(mail, outer)


def _signable_entity(clear: Message) -> Message:
    """The body as a MIME entity with its content headers only, every text part quoted-printable:
    RFC 3156 §3 asks for 7-bit content, since a relay that re-encodes 8-bit text would break the
    signature."""
    entity = copy.deepcopy(clear)
    for name in {name for name in entity if name.lower() not in _BODY_HEADERS}:
        del entity[name]
    for part in entity.walk():
        if part.is_multipart() and part.get_boundary() is None:
            # Chosen now, not as it is written: the generator writes a boundary it had to make up
            # differently the first time, and the signed bytes must be the bytes that travel.
            part.set_boundary(f"=_{uuid.uuid4().hex}")
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and part["Content-Transfer-Encoding"] in {"7bit", "8bit"}:
            del part["Content-Transfer-Encoding"]
            part.set_payload(quopri.encodestring(data).decode("ascii"))
            part["Content-Transfer-Encoding"] = "quoted-printable"
    return entity


def _first_part_as_sent(outer: SafeMIMEMultipart) -> bytes:
    """The signed part's bytes exactly as they travel, cut from the whole message as Django writes
    it (CRLF line ends), between the first delimiter and the next (RFC 3156 §5, RFC 2046 §5.1.1:
    the CRLF before a delimiter belongs to it). Cutting them from the real output, rather than
    writing the part alone, is what makes them the same bytes: a part is folded differently when
    written on its own."""
    wire = outer.as_bytes(linesep="\r\n")
    delimiter = b"--" + str(outer.get_boundary()).encode()
    start = wire.index(delimiter + b"\r\n") + len(delimiter) + 2
    return wire[start : wire.index(b"\r\n" + delimiter, start)]


def _pgp_signed(clear: Message, entity: Message, signature: Message) -> SafeMIMEMultipart:
    """RFC 3156 §5: multipart/signed; the body entity as signed, then the detached signature."""
    outer = SafeMIMEMultipart(_subtype="signed", protocol="application/pgp-signature")
    for name, value in clear.items():
        if name.lower() not in _CONTENT_HEADERS:
            outer[name] = _UNFOLD.sub("", value)
    outer.attach(entity)
    outer.attach(signature)
    return outer


def _outer_headers(clear: Message) -> list[tuple[str, str]]:
    """What the unencrypted wrapper shows: the message's headers but its content headers, the
    subject obscured. Unfolded (RFC 5322 §2.2.3): a long header comes folded, and Django refuses a
    header value with a line break in it; it folds it again when the message is written."""
    return [
        (name, OBSCURED_SUBJECT if name.lower() == "subject" else _UNFOLD.sub("", value))
        for name, value in clear.items()
        if name.lower() not in _CONTENT_HEADERS
    ]


def _body_entity(clear: Message) -> bytes:
    """The MIME entity to encrypt, CRLF line ends (RFC 3156 §3): the body with its own content
    headers, the true header values (RFC 9788 §2.1: ``hp="cipher"``; ``protected-headers="v1"``
    for clients that predate it) and an HP-Outer field per header the wrapper shows (§2.2)."""
    entity = Message()
    for name in ("Content-Type", "Content-Transfer-Encoding"):
        if clear[name] is not None:
            entity[name] = clear[name]
    entity.set_param("hp", "cipher")
    entity.set_param("protected-headers", "v1")
    for name in _PROTECTED:
        if clear[name] is not None:
            entity[name] = _UNFOLD.sub("", clear[name])
    for name, value in _outer_headers(clear):
        entity["HP-Outer"] = f"{name}: {value}"
    entity.set_payload(clear.get_payload())
    return entity.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))


def _pgp_mime(clear: Message, armored: str) -> SafeMIMEMultipart:
    """RFC 3156 §4: multipart/encrypted; a "Version: 1" control part, then the OpenPGP message."""
    control = MIMEApplication(b"Version: 1\r\n", "pgp-encrypted", _encoder=encode_7or8bit)
    control["Content-Description"] = "PGP/MIME version identification"
    payload = MIMEApplication(
        armored.encode("ascii"), "octet-stream", _encoder=encode_7or8bit, name="encrypted.asc"
    )
    payload["Content-Description"] = "OpenPGP encrypted message"
    payload["Content-Disposition"] = 'inline; filename="encrypted.asc"'
    outer = SafeMIMEMultipart(_subtype="encrypted", protocol="application/pgp-encrypted")
    for name, value in _outer_headers(clear):
        outer[name] = value
    outer.attach(control)
    outer.attach(payload)
    return outer


class _PrebuiltEmail(EmailMessage):
    """Django's EmailMessage with the MIME message already built: the backends send it as is."""

    def __init__(self, original: EmailMessage, built: SafeMIMEMultipart) -> None:
        super().__init__(
            from_email=original.from_email,
            to=original.to,
            cc=original.cc,
            bcc=original.bcc,
            reply_to=original.reply_to,
        )
        self._built = built

    def message(self) -> SafeMIMEMultipart:
        return self._built
