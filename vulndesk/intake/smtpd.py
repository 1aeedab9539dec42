"""The SMTP intake: reports by email, received by ``vulndesk smtpd`` (and ``vulndesk serve``).

The server refuses early what it cannot take: an address that is no project's intake address at
RCPT time, a second project in one message, data over the size limit. What it accepts it hands, as
raw bytes, to ``parse_report_email`` and ``do_receive_report`` in a worker thread, and answers 250
only once the report is committed: a sender never hears "received" for a report that is not stored.
Mail to a per-report reply address goes, the same way, to the receiver the cases domain registers
in ``intake/hooks.py`` (``cases/emailed_replies.py``): the conversation is not the intake's.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
import traceback
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from vulndesk.intake import hooks
from vulndesk.intake.actions import Provenance, do_receive_report
from vulndesk.intake.mail import OpenPGPMailError, ParsedEmail, parse_report_email
from vulndesk.intake.mime import MailParseError
from vulndesk.intake.models import Channel
from vulndesk.intake.relay import origin_address
from vulndesk.intake.submission import SubmissionError
from vulndesk.intake.throttle import Throttled
from vulndesk.openpgp.inbound import intake_key
from vulndesk.projects.models import Project

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 30 * 1024 * 1024
INTAKE_CACHE_SECONDS = 30.0
TEMPORARY_FAILURE = "451 4.3.0 temporary failure, try again later"
ONE_PROJECT = "452 4.5.3 one project per message"
MAX_REPLY_CHARACTERS = 400
# RFC 5321 §4.5.3.1.6: 1000 characters per line, CRLF included.
MAX_LINE_BYTES = 1000
LINE_TOO_LONG = (
    "500 5.5.2 line too long: a header or text line is longer than 1000 characters "
    "(RFC 5321 section 4.5.3.1.6); wrap it or send it as an attachment"
)


def max_message_bytes() -> int:
    return int(getattr(settings, "SMTP_INTAKE_MAX_BYTES", DEFAULT_MAX_BYTES))


def load_intake_addresses() -> dict[str, int]:
    """Each intake address, lower-cased, and the id of the project whose policy lists it."""
    close_old_connections()
    try:
        addresses: dict[str, int] = {}
        for pk, document in Project.objects.order_by("pk").values_list("pk", "policy_document"):
            contacts = document.get("contacts", {}) if isinstance(document, dict) else {}
            for address in contacts.get("intake_addresses", []):
                # Two policies listing one address: the older project keeps it.
                addresses.setdefault(str(address).strip().lower(), pk)
        return addresses
    finally:
        _close_thread_connections()


def receive_email(project_id: int, raw: bytes, peer: str = "") -> int:
    """Parse and store one message for a project; the report's number, once committed."""
    close_old_connections()
    try:
        project = Project.objects.get(pk=project_id)
        parsed = parse_report_email(raw, intake_key(project))
        if parsed.problems:
            # Problems name structure only (defects, charsets), never what the reporter wrote.
            logger.info("SMTP intake: message read with problems: %s", "; ".join(parsed.problems))
        received = do_receive_report(
            project,
            parsed.submission,
            channel=Channel.EMAIL,
            acting_user=None,
            provenance=_provenance(parsed, origin_address(raw, peer)),
        )
        return received.report.number
    finally:
        _close_thread_connections()


def peer_address(session: Session) -> str:
    """The connecting host's address (aiosmtpd keeps the socket's (host, port) tuple)."""
    peer: object = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


def _provenance(parsed: ParsedEmail, peer: str) -> Provenance:
    openpgp = parsed.openpgp
    return Provenance(
        message_id=parsed.message_id,
        # The connecting server (or, behind a trusted relay, the one that connected to it): the
        # sender's address is whatever the From header claims.
        client_address=peer,
        was_encrypted=openpgp.was_encrypted,
        signature=openpgp.signature,
        signer_fingerprint=openpgp.signer_fingerprint,
        reporter_public_key=openpgp.reporter_key,
        reporter_key_fingerprint=openpgp.reporter_key_fingerprint,
    )


def reply_address_known(address: str) -> bool:
    try:
        return _reply_receiver(address) is not None
    finally:
        _close_thread_connections()


def receive_reply(address: str, raw: bytes) -> int:
    """Hand mail to a reply address to the domain that knows it (the cases domain's conversation)."""
    try:
        receiver = _reply_receiver(address)
        if receiver is None:
            raise SubmissionError({"recipient": "no such reply address"})
        return receiver.receive(address, raw)
    finally:
        _close_thread_connections()


def _reply_receiver(address: str) -> hooks.ReplyReceiver | None:
    return next((receiver for receiver in hooks.reply_receivers if receiver.knows(address)), None)


def _close_thread_connections() -> None:
    # Django keeps one connection per thread, and asyncio's pool threads live as long as the
    # server: a connection left open in one would sit idle (on PostgreSQL, holding a server
    # session) between messages, so each piece of work closes its own.
    connections.close_all()


def smtp_reply(code: str, text: str) -> str:
    """One reply line: printable ASCII only, bounded, since SMTP clients show it to the sender."""
    printable = "".join(c if " " <= c <= "~" else "?" for c in " ".join(text.split()))
    return f"{code} {printable[:MAX_REPLY_CHARACTERS]}"


def unreadable(exc: MailParseError, what: str) -> str:
    if isinstance(exc, OpenPGPMailError):
        # RFC 3463 X.7.5: a cryptographic failure (a key we do not hold, OpenPGP we cannot read).
        return smtp_reply("550", f"5.7.5 {exc}")
    return smtp_reply("550", f"5.6.0 {what}: {exc}")


class IntakeHandler:
    """aiosmtpd handler: intake addresses checked at RCPT, reports stored at DATA."""

    def __init__(self, cache_seconds: float = INTAKE_CACHE_SECONDS) -> None:
        self.cache_seconds = cache_seconds
        self._addresses: dict[str, int] = {}
        self._loaded_at: float | None = None

    async def intake_addresses(self) -> dict[str, int]:
        # Re-read at most every cache_seconds, so a policy edit takes effect without a restart.
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at >= self.cache_seconds:
            self._addresses = await asyncio.to_thread(load_intake_addresses)
            self._loaded_at = now
        return self._addresses

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd looks up
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower().startswith("reply+"):
            return await self._reply_rcpt(envelope, address, rcpt_options)
        try:
            addresses = await self.intake_addresses()
        except Exception as exc:  # noqa: BLE001 - the database is away: the sender retries a 451
            log_failure(exc)
            return TEMPORARY_FAILURE
        project_id = addresses.get(address.lower())
        if project_id is None:
            return smtp_reply("550", f"5.1.1 <{address}>: no such intake address")
        others = {addresses.get(earlier.lower()) for earlier in envelope.rcpt_tos}
        if others - {project_id} or any(r.lower().startswith("reply+") for r in envelope.rcpt_tos):
            return ONE_PROJECT
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def _reply_rcpt(self, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        """A per-report reply address: one conversation per message, and nothing else with it."""
        try:
            known = await asyncio.to_thread(reply_address_known, address)
        except Exception as exc:  # noqa: BLE001 - the database is away: the sender retries a 451
            log_failure(exc)
            return TEMPORARY_FAILURE
        if not known:
            return smtp_reply("550", f"5.1.1 <{address}>: no such reply address")
        if envelope.rcpt_tos:
            return "452 4.5.3 one conversation per message"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd looks up
        self, _server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        recipient, peer = envelope.rcpt_tos[0], peer_address(session)
        raw = with_crlf_line_ends(envelope.original_content or b"")
        if longest_line(raw) > MAX_LINE_BYTES:
            return LINE_TOO_LONG
        if recipient.lower().startswith("reply+"):
            return await self._reply_data(recipient, raw)
        return await self._report_data(recipient, raw, peer)

    async def _report_data(self, recipient: str, raw: bytes, peer: str) -> str:
        try:
            project_id = (await self.intake_addresses()).get(recipient.lower())
            if project_id is None:  # the policy dropped the address since RCPT
                return smtp_reply("550", f"5.1.1 <{recipient}>: no such intake address")
            number = await asyncio.to_thread(receive_email, project_id, raw, peer)
        except MailParseError as exc:
            return unreadable(exc, "the message cannot be read as a report")
        except SubmissionError as exc:
            return smtp_reply("550", f"5.6.0 the report was refused: {exc}")
        except Throttled as exc:
            return smtp_reply("450", f"4.7.1 {exc}")
        except Exception as exc:  # noqa: BLE001 - the sender's server retries a 451
            log_failure(exc)
            return TEMPORARY_FAILURE
        return f"250 2.0.0 Report #{number} received"

    async def _reply_data(self, recipient: str, raw: bytes) -> str:
        try:
            number = await asyncio.to_thread(receive_reply, recipient, raw)
        except MailParseError as exc:
            return unreadable(exc, "the message cannot be read")
        except SubmissionError as exc:
            return smtp_reply("550", f"5.6.0 the reply was refused: {exc}")
        except Throttled as exc:
            # Temporary: the sender's server keeps the message and offers it again later.
            return smtp_reply("450", f"4.7.1 the reply was not accepted: {exc}")
        except Exception as exc:  # noqa: BLE001 - the sender's server retries a 451
            log_failure(exc)
            return TEMPORARY_FAILURE
        return f"250 2.0.0 Reply added to report #{number}"


def log_failure(exc: Exception) -> None:
    """The kind of failure and where, never its text: an exception's text may quote the message
    (which is also why this is not ``logger.exception``)."""
    logger.error(
        "SMTP intake failed (%s); the sender will retry; at %s",
        type(exc).__name__,
        " < ".join(
            f"{frame.filename}:{frame.lineno} {frame.name}"
            for frame in reversed(traceback.extract_tb(exc.__traceback__))
        ),
    )


def with_crlf_line_ends(raw: bytes) -> bytes:
    """The message with every bare LF made CRLF, as RFC 5322 §2.3 writes line ends.

    Some clients send bare LF line ends; aiosmtpd splits lines at CRLF only, so such a message
    arrives as one long "line". Only the end of data is CRLF.CRLF, never a bare-LF dot: treating
    LF.LF as the end is what SMTP smuggling exploits. The dot-stuffing of lines aiosmtpd could not
    see (those after a bare LF) is undone here (RFC 5321 §4.5.2).
    """
    if b"\n" not in raw.replace(b"\r\n", b""):
        return raw
    lines: list[bytes] = []
    for segment in raw.split(b"\r\n"):
        first, *rest = segment.split(b"\n")
        lines.append(first)
        lines.extend(line[1:] if line.startswith(b".") else line for line in rest)
    return b"\r\n".join(lines)


def longest_line(raw: bytes) -> int:
    """The longest line's length in bytes, its CRLF included."""
    return max((len(line) + 2 for line in raw.split(b"\r\n")), default=0)


class IntakeSMTP(SMTP):
    """aiosmtpd's SMTP with clearer words on the limits it enforces itself, and lines counted by
    ``handle_DATA`` after bare LFs are read as line ends (``with_crlf_line_ends``)."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        # aiosmtpd bounds its read buffer by the line limit (set before its reader is made): a
        # bare-LF message is one "line" to it, so the buffer may hold a whole message; the data
        # size limit still bounds it.
        self.line_length_limit = (kwargs.get("data_size_limit") or DEFAULT_MAX_BYTES) + 2
        super().__init__(handler, **kwargs)

    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = self._clearer(status)
        await super().push(status)

    def _clearer(self, status: str) -> str:
        if status.startswith("500 Line too long"):
            return LINE_TOO_LONG
        if status.startswith("552 Error:"):
            return f"552 5.3.4 message too big: the limit is {self.data_size_limit} bytes"
        return status


class IntakeController(Controller):
    """aiosmtpd's threaded controller, serving ``IntakeSMTP``."""

    def factory(self) -> IntakeSMTP:
        return IntakeSMTP(self.handler, **self.SMTP_kwargs)


def intake_controller(host: str, port: int, handler: IntakeHandler | None = None) -> IntakeController:
    """A controller ready to start: the size limit is read from settings now."""
    return IntakeController(
        handler or IntakeHandler(),
        hostname=host,
        port=port,
        server_hostname=urlsplit(settings.BASE_URL).hostname or "vulndesk",
        data_size_limit=max_message_bytes(),
    )


def run(host: str, port: int) -> int:
    """Serve until SIGTERM or SIGINT, then stop cleanly."""
    # aiosmtpd logs every sender and recipient at INFO and message lines at DEBUG: reporters'
    # addresses and reports do not belong in a log.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    controller = intake_controller(host, port)
    try:
        controller.start()
    except OSError as exc:
        logger.error("SMTP intake cannot listen on %s:%s: %s", host, port, exc)  # noqa: TRY400 - no traceback needed
        return 1
    else:
        logger.info("SMTP intake listening on %s:%s", host, port)
        stop.wait()
    finally:
        controller.stop(no_assert=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logger.info("SMTP intake stopped")
    return 0
