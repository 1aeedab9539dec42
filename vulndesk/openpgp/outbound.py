"""Mail to a reporter who sent us their key goes out encrypted to it, as PGP/MIME (RFC 3156 §4).

The whole body (the text and HTML alternatives, with their MIME headers) is encrypted; the outer
message keeps what relays need: addresses, date and the outbox's stable Message-ID. The subject
can name a case and what happened to it, so it travels inside, as a protected header (RFC 9788),
and the outer one is the obscured "[...]" that mail clients replace with the inner one.
A mail that goes out unencrypted (a reporter without a usable key) keeps its subject in clear:
subjects name the project and the report number, never a report's title or text.
"""

from __future__ import annotations

import logging
import re
from email import policy
from email.encoders import encode_7or8bit
from email.message import Message
from email.mime.application import MIMEApplication

from django.core.mail import EmailMessage
from django.core.mail.message import SafeMIMEMultipart

from vulndesk.notify.models import OutboundEmail
from vulndesk.openpgp.keys import GnuPGHome, OpenPGPError
from vulndesk.openpgp.models import ReporterKey

logger = logging.getLogger(__name__)

_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTENT_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}
# RFC 9788 §4.2: the headers copied into the encrypted part; the outer Subject is obscured.
_PROTECTED = ("From", "To", "Cc", "Reply-To", "Date", "Message-ID", "Subject")
OBSCURED_SUBJECT = "[...]"


def for_recipient(outbound: OutboundEmail, mail: EmailMessage, *, required_key: str = "") -> EmailMessage:
    """``mail`` encrypted to the reporter's key when it goes to that reporter alone; else as is.

    A key gpg cannot encrypt to (expired or revoked since) leaves the mail as it would go to a
    reporter without a key, and says so in the log. Mail with a ``required_key`` (embargoed
    notices) is encrypted to it or raises: it never leaves in clear.
    """
    if required_key:
        return _encrypted(mail, required_key)
    key = _reporter_key(outbound, mail.to)
    if key is None:
        return mail
    try:
        return _encrypted(mail, key)
    except OpenPGPError as exc:
        # Only the kind: gpg's own text can quote the key's user ids (the reporter's name and address).
        logger.warning(
            "outbound %s: the reporter's key cannot be used (%s); sent unencrypted",
            outbound.uid,
            type(exc).__name__,
        )
        return mail


def _reporter_key(outbound: OutboundEmail, recipients: list[str]) -> str | None:
    if outbound.report_id is None:
        return None
    stored = ReporterKey.objects.filter(report_id=outbound.report_id).select_related("report").first()
    if stored is None:
        return None
    # Only the reporter holds the key: mail that also goes to anyone else stays readable to them.
    address = str(stored.report.reporter.get("email", "")).strip().lower()
    if [r.strip().lower() for r in recipients] != [address]:
        return None
    return stored.public_key


def _encrypted(mail: EmailMessage, public_key: str) -> EmailMessage:
    clear = mail.message()
    with GnuPGHome() as home:
        imported = home.import_keys(public_key)
        if len(imported) != 1:
            raise OpenPGPError("the stored key is not one public key")
        armored = home.encrypt(_body_entity(clear), imported[0])
    return _PrebuiltEmail(mail, _pgp_mime(clear, armored))


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
