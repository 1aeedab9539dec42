"""Reading a report's MIME tree: text parts become the description, every other part an attachment.

Hostile input is bounded before the email package sees it (``check_raw_limits``: header size and
the number of parts, counted in the raw bytes) and again after parsing (``read_entity``: parts and
nesting depth). A forwarded message (message/rfc822) becomes both an attachment and text; HTML-only
mail is turned into plain text (``intake/html_text.py``). Given ``openpgp.inbound.MessageOpenPGP``,
the walk decrypts PGP/MIME (RFC 3156) and inline PGP in place and notes signatures for checking.
"""

from __future__ import annotations

import mimetypes
import re
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from vulndesk.intake.html_text import html_to_text
from vulndesk.intake.submission import Attachment
from vulndesk.openpgp.inbound import MessageOpenPGP

MAX_HEADER_BYTES = 64 * 1024
MAX_PARTS = 100
MAX_DEPTH = 10
# Larger HTML bodies are kept as a file rather than converted: their text could not fit in a
# description anyway, and conversion work stays bounded.
MAX_HTML_CHARACTERS = 1_000_000
FORWARDED_LINE = "---- Forwarded message ----"
# Python's own table only, not the host's /etc/mime.types: the same mail gets the same names anywhere.
_MIME_TYPES = mimetypes.MimeTypes()
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# Declared multipart boundaries and container types, counted in the raw bytes before parsing:
# the email package's work grows quadratically with nesting and steeply with the number of parts.
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_CONTAINER = re.compile(rb"^content-type:[ \t]*(?:multipart|message)/", re.IGNORECASE | re.MULTILINE)
_ARMOURED_MESSAGE = "-----BEGIN PGP MESSAGE-----"
# WHATWG Encoding Standard: mail that says latin-1 or ASCII is in practice windows-1252 or UTF-8.
_CHARSET_ALIASES = {
    "iso-8859-1": "windows-1252",
    "latin-1": "windows-1252",
    "latin1": "windows-1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}


class MailParseError(ValueError):
    """A message that cannot become a report; the message says why, in words for the sender."""


def check_raw_limits(raw: bytes) -> None:
    """Refuse a message whose header or declared parts exceed the limits, before any parsing."""
    end = _HEADER_END.search(raw)
    header_bytes = end.start() if end else len(raw)
    if header_bytes > MAX_HEADER_BYTES:
        raise MailParseError(f"the message header is larger than {MAX_HEADER_BYTES // 1024} KiB")
    too_many = MailParseError(f"the message has more than {MAX_PARTS} MIME parts")
    boundaries = {m.group(1) or m.group(2) for m in _BOUNDARY.finditer(raw)}
    if len(boundaries) > MAX_PARTS or len(_CONTAINER.findall(raw)) > MAX_PARTS:
        raise too_many
    if boundaries:
        # One delimiter line opens each part and one closes each multipart: 2 * MAX_PARTS at most.
        alternatives = b"|".join(re.escape(b) for b in boundaries)
        delimiter = re.compile(rb"^--(?:" + alternatives + rb")(?:--)?[ \t]*\r?$", re.MULTILINE)
        if len(delimiter.findall(raw)) > 2 * MAX_PARTS:
            raise too_many


def read_entity(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage):  # policy.default always builds EmailMessage
        raise MailParseError("the message could not be read as MIME")
    _check_structure(message)
    return message


def _children(part: Message) -> list[EmailMessage]:
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, EmailMessage)]


def _check_structure(message: EmailMessage) -> None:
    count = 0
    pending = [(message, 0)]
    while pending:
        part, depth = pending.pop()
        count += 1
        if count > MAX_PARTS:
            raise MailParseError(f"the message has more than {MAX_PARTS} MIME parts")
        if depth > MAX_DEPTH:
            raise MailParseError(f"the message's MIME parts nest deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in _children(part))


def mime_defects(message: EmailMessage) -> list[str]:
    names: set[str] = set()
    pending = [message]
    while pending:
        part = pending.pop()
        names.update(type(defect).__name__ for defect in part.defects)
        pending.extend(_children(part))
    return [f"MIME defect: {name}" for name in sorted(names)]


def read_header(message: EmailMessage, name: str, problems: list[str]) -> str:
    try:
        value = message.get(name)
        return "" if value is None else " ".join(str(value).split())
    except Exception:  # noqa: BLE001 - header parsing fails in many ways; one bad header is not fatal
        problems.append(f"the {name} header could not be read")
        return ""


class BodyReader:
    """Walks the MIME tree: text parts become the description, the rest attachments.

    With ``openpgp``, encrypted parts are decrypted and read in place, and signatures noted for
    checking; ``sources`` holds the raw bytes the parts being read were parsed from (the message,
    or a decrypted entity), since a signature covers a part exactly as it was sent.
    """

    def __init__(
        self, problems: list[str], openpgp: MessageOpenPGP | None = None, source: bytes = b""
    ) -> None:
        self.problems = problems
        self.texts: list[str] = []
        self.attachments: list[Attachment] = []
        self.forwarded = 0
        self.openpgp = openpgp
        self.sources = [source]
        self.protected_subject = ""

    def text(self) -> str:
        return "\n\n".join(t for t in (text.strip() for text in self.texts) if t)

    def read(self, part: EmailMessage) -> None:
        content_type = part.get_content_type()
        if content_type == "message/rfc822" and part.is_multipart():
            self._forwarded(part)
        elif part.is_multipart():
            self._multipart(part, content_type)
        elif _is_attachment(part):
            self._attach(part)
        elif content_type == "text/plain":
            self._add_text(_decode_text(part, self.problems))
        elif content_type == "text/html":
            self._add_html(part)
        elif part.get_content_maintype() == "multipart":
            # A multipart whose boundary never appears: the email package keeps it as one text.
            self.problems.append("broken MIME structure: the message was read as plain text")
            self._add_text(_decode_text(part, self.problems))
        else:
            self._attach(part)

    def _multipart(self, part: EmailMessage, content_type: str) -> None:
        children = _children(part)
        if content_type == "multipart/alternative":
            self._alternative(children)
        elif content_type == "multipart/encrypted":
            self._encrypted(children)
        elif content_type in {"multipart/signed", "multipart/related"} and children:
            if content_type == "multipart/signed":
                self._check_signature(part, children)
            # RFC 1847: the first part is the content, the rest its signature; RFC 2387: the
            # first part is the root, the rest what it refers to (images …).
            self.read(children[0])
            for child in children[1:]:
                self._attach(child)
        else:
            for child in children:
                self.read(child)

    def _encrypted(self, children: list[EmailMessage]) -> None:
        # RFC 3156 §4: a control part (application/pgp-encrypted), then the OpenPGP message.
        if self.openpgp is None or not _is_pgp_mime(children):
            self.problems.append("OpenPGP-encrypted content is kept as attachments, not decrypted")
            for child in children:
                self._attach(child)
            return
        plaintext = self.openpgp.decrypt(_payload(children[1]))
        check_raw_limits(plaintext)
        entity = read_entity(plaintext)
        self.openpgp.learn_keys(entity)
        self.protected_subject = self.protected_subject or read_header(entity, "subject", self.problems)
        self.sources.append(plaintext)
        try:
            self.read(entity)
        finally:
            self.sources.pop()

    def _check_signature(self, part: EmailMessage, children: list[EmailMessage]) -> None:
        # RFC 3156 §5: the signed part, then an application/pgp-signature part.
        protocol = str(part.get_param("protocol", "")).lower()
        if self.openpgp is None or protocol != "application/pgp-signature" or len(children) != 2:  # noqa: PLR2004
            return
        signed = _signed_part(self.sources[-1], part.get_boundary())
        if signed is None:
            self.problems.append("the signed part could not be found as sent: its signature is not checked")
            return
        self.openpgp.check_detached(signed, _payload(children[1]))

    def _alternative(self, children: list[EmailMessage]) -> None:
        # The same content in several forms: prefer plain text, else the richest form we read.
        for wanted in ("text/plain", "text/html", "multipart"):
            for child in children:
                if wanted in {child.get_content_type(), child.get_content_maintype()}:
                    self.read(child)
                    return
        for child in children:  # no form we read (text/calendar …): keep them all as files
            self._attach(child)

    def _forwarded(self, part: EmailMessage) -> None:
        self.forwarded += 1
        inner = _children(part)
        self.attachments.append(
            Attachment(
                f"forwarded-{self.forwarded}.eml", "message/rfc822", _serialized(inner[0]) if inner else b""
            )
        )
        if not inner:
            return
        reader = BodyReader(self.problems)
        reader.read(inner[0])
        header = [FORWARDED_LINE]
        for name in ("From", "Date", "Subject"):
            value = read_header(inner[0], name.lower(), self.problems)
            if value:
                header.append(f"{name}: {value}")
        self.texts.append("\n".join(header) + "\n\n" + reader.text())

    def _add_text(self, text: str) -> None:
        if self.openpgp is not None:
            text = self.openpgp.open_inline(text)
        elif _ARMOURED_MESSAGE in text:
            self.problems.append("an inline OpenPGP message is kept as text, not decrypted")
        self.texts.append(text)

    def _add_html(self, part: EmailMessage) -> None:
        markup = _decode_text(part, self.problems)
        if len(markup) > MAX_HTML_CHARACTERS:
            self.problems.append("the HTML text is too large to convert; it is kept as a file")
            self._attach(part)
            return
        self._add_text(html_to_text(markup))

    def _attach(self, part: EmailMessage) -> None:
        if part.is_multipart():
            content = _serialized(part)
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
        self.attachments.append(
            Attachment(_filename(part, len(self.attachments) + 1), part.get_content_type(), content)
        )


def _is_pgp_mime(children: list[EmailMessage]) -> bool:
    return len(children) == 2 and children[0].get_content_type() == "application/pgp-encrypted"  # noqa: PLR2004


def _payload(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _signed_part(source: bytes, boundary: str | None) -> bytes | None:
    """The first part of a multipart/signed exactly as sent (RFC 3156 §5): from after its
    boundary line up to the line break before the next one, which belongs to the boundary
    (RFC 2046 §5.1.1).

    The boundary must delimit exactly the two parts, once each: a message that repeats the
    delimiter elsewhere (a sender can plant it in an earlier part around bytes someone once
    signed) is ambiguous, and its signature is not checked rather than checked on other bytes
    than the ones shown."""
    if not boundary:
        return None
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode(errors="replace")) + rb"[ \t]*\r?\n")
    found = list(delimiter.finditer(source))
    if len(found) != 2:  # noqa: PLR2004 - one before the signed part, one before the signature
        return None
    return source[found[0].end() : found[1].start()]


def _is_attachment(part: EmailMessage) -> bool:
    return part.get_content_disposition() == "attachment" or part.get_filename() is not None


def _filename(part: EmailMessage, number: int) -> str:
    name = part.get_filename()
    if name and name.strip():
        return name.strip()
    extension = _MIME_TYPES.guess_extension(part.get_content_type()) or ".bin"
    return f"part-{number}{extension}"


def _serialized(message: EmailMessage) -> bytes:
    """The message as bytes for an .eml file: the parser keeps no copy of the original."""
    try:
        return message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
    except Exception:  # noqa: BLE001 - a forwarded message that cannot be rewritten is still a report
        return b""


def _decode_text(part: EmailMessage, problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = (part.get_content_charset() or "utf-8").strip().lower()
    charset = _CHARSET_ALIASES.get(declared, declared)
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        # Unknown or non-text codecs (a charset named "base64" or "idna"): read as UTF-8.
        problems.append(f"unknown charset {declared[:40]!r}: the text was read as UTF-8")
        return payload.decode("utf-8", errors="replace")
