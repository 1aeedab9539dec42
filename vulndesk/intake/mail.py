"""Reports by email: raw RFC 822 bytes in, a ``Submission`` out.

``parse_report_email`` is a pure function, so tests feed it raw messages and the SMTP server
(``intake/smtpd.py``) only hands it the bytes it received. The subject becomes the title, the text
the description, and the sender the reporter; reading the MIME tree (text, attachments, forwarded
messages) is ``intake/mime.py``, and HTML-only mail becomes plain text in ``intake/html_text.py``.
Hostile input ends in ``MailParseError`` and nothing else: the email package raises many kinds of
exception on malformed mail, and the limits in ``intake/mime.py`` keep its work bounded.

Given the project's key (``openpgp.inbound.IntakeKey``), OpenPGP is read as the walk meets it:
PGP/MIME (RFC 3156) and inline PGP are decrypted and read as if they had come in clear, signatures
are checked, and ``ParsedEmail.openpgp`` says what was found (``openpgp/inbound.py`` does the work).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

from vulndesk.intake.mime import (
    BodyReader,
    MailParseError,
    check_raw_limits,
    mime_defects,
    read_entity,
    read_header,
)
from vulndesk.intake.models import CreditPreference
from vulndesk.intake.submission import MAX_TITLE, Submission
from vulndesk.openpgp.inbound import IntakeKey, MessageOpenPGP, OpenPGPOutcome
from vulndesk.openpgp.keys import GnuPGUnavailableError, OpenPGPError

NO_SUBJECT = "(no subject)"
NO_TEXT = "(The message has no readable text; see the attached files.)"


class OpenPGPMailError(MailParseError):
    """Encrypted to a key we do not hold, or OpenPGP we cannot read (RFC 3463 X.7.5)."""


@dataclass(frozen=True)
class ParsedEmail:
    """A report read from an email; ``problems`` lists what was odd but did not stop it.

    Problems name structure (a defect, an unknown charset), never what the reporter wrote, so
    they may be logged.
    """

    submission: Submission
    message_id: str
    problems: list[str] = field(default_factory=list)
    openpgp: OpenPGPOutcome = field(default_factory=OpenPGPOutcome)


def parse_report_email(raw: bytes, key: IntakeKey | None = None) -> ParsedEmail:
    """Read one RFC 822 message; raise ``MailParseError`` when it cannot be a report.

    Without ``key`` no OpenPGP is read (encrypted parts stay attachments, as they came) and no
    gpg runs. With it, a gpg that cannot run or runs too long raises ``GnuPGUnavailableError``
    (an ``OSError``): the host's fault, for the sender to retry.
    """
    check_raw_limits(raw)
    try:
        return _parse(raw, key)
    except (MailParseError, GnuPGUnavailableError):
        raise
    except OpenPGPError as exc:
        raise OpenPGPMailError(str(exc)) from None
    except Exception as exc:
        # The email package raises many kinds (HeaderParseError, IndexError, RecursionError …)
        # on hostile input. Only the kind is named: the exception's text may quote the message.
        raise MailParseError(f"the message could not be read as MIME ({type(exc).__name__})") from exc


def _parse(raw: bytes, key: IntakeKey | None) -> ParsedEmail:
    message = read_entity(raw)
    problems: list[str] = []
    reader, outcome = _read_body(message, raw, key, problems)
    description = reader.text()
    if not description:
        if not reader.attachments:
            raise MailParseError("the message has no text and no attachments: there is no report")
        description = NO_TEXT
    name, address = _sender(message, problems)
    submission = Submission(
        title=_title(_subject(message, reader, problems), problems),
        description=description,
        reporter_name=name,
        reporter_email=address,
        credit=CreditPreference.NAME if name else CreditPreference.ANONYMOUS,
        attachments=reader.attachments,
    )
    problems.extend(mime_defects(message))
    return ParsedEmail(submission, read_header(message, "message-id", problems).strip(), problems, outcome)


def _read_body(
    message: EmailMessage, raw: bytes, key: IntakeKey | None, problems: list[str]
) -> tuple[BodyReader, OpenPGPOutcome]:
    if key is None:
        reader = BodyReader(problems)
        reader.read(message)
        return reader, OpenPGPOutcome()
    with ExitStack() as gnupg_home:  # a GnuPG home opens at the first OpenPGP part, and goes here
        openpgp = MessageOpenPGP(key, gnupg_home)
        openpgp.learn_keys(message)
        reader = BodyReader(problems, openpgp, raw)
        reader.read(message)
        outcome = openpgp.outcome()
    problems.extend(openpgp.problems)
    return reader, outcome


def _subject(message: EmailMessage, reader: BodyReader, problems: list[str]) -> str:
    # Protected headers: a client that encrypts the whole message puts the real subject inside,
    # and "..." or "Encrypted message" outside.
    if message.get_content_type() == "multipart/encrypted" and reader.protected_subject:
        return reader.protected_subject
    return read_header(message, "subject", problems)


def _title(subject: str, problems: list[str]) -> str:
    title = subject or NO_SUBJECT
    if len(title) > MAX_TITLE:
        problems.append(f"the subject was cut to {MAX_TITLE} characters")
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    return title


def _sender(message: EmailMessage, problems: list[str]) -> tuple[str, str]:
    value = read_header(message, "from", problems)
    name, address = parseaddr(value)
    if not address:
        problems.append("no single From address: the reporter gets no acknowledgement")
    return " ".join(name.split()), address.strip()
