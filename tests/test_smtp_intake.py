"""Reports by email: the real SMTP intake on a loopback port, and the parser it hands bytes to."""

from __future__ import annotations

import logging
import os
import signal
import smtplib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from hypothesis import given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from vulndesk.intake.mail import NO_SUBJECT, ParsedEmail, parse_report_email
from vulndesk.intake.mime import FORWARDED_LINE, MAX_PARTS, MailParseError
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.smtpd import IntakeController, IntakeHandler, intake_controller
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.actions import do_update_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import validate_policy

from .live import free_port
from .test_archive_bombs import gzip_of_zeros

INTAKE_A = "llm-d-security-reporting@googlegroups.com"  # llm-d's policy
INTAKE_B = "github@hpe.com"  # Agentic Tool Mesh's policy
RITA = "rita@researcher.test"
StartIntake = Callable[..., int]


@pytest.fixture
def start_intake(transactional_db: None, project_a: Project, project_b: Project) -> Iterator[StartIntake]:
    """Starts the real server on a free port; transactional, since it writes from its own thread."""
    running: list[IntakeController] = []

    def start(cache_seconds: float = 30.0) -> int:
        port = free_port()
        controller = intake_controller("127.0.0.1", port, IntakeHandler(cache_seconds=cache_seconds))
        controller.start()
        running.append(controller)
        return port

    yield start
    for controller in running:
        controller.stop()


@pytest.fixture
def intake(start_intake: StartIntake) -> int:
    return start_intake()


def mail(subject: str = "Prompt injection reaches the tool router", **headers: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)  # CRLF line ends, as SMTP requires
    message["From"] = headers.pop("From", f"Rita Reporter <{RITA}>")
    message["To"] = INTAKE_A
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("Message_ID", "<first@researcher.test>")
    for name, value in headers.items():
        message[name] = value
    return message


def plain(body: str = "The router executes tool calls taken from model output.\n") -> bytes:
    message = mail()
    message.set_content(body)
    return message.as_bytes()


def send(port: int, raw: bytes, to: str = INTAKE_A) -> tuple[int, str]:
    """One SMTP conversation; the answer to DATA (or to RCPT when that refuses)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail(RITA)
        code, reply = client.rcpt(to)
        if code != 250:
            return code, reply.decode()
        code, reply = client.data(raw)
        return code, reply.decode()


def only_report() -> Report:
    report = Report.objects.get()
    assert report.channel == Channel.EMAIL
    return report


def test_a_plain_text_mail_becomes_a_report_and_the_reporter_is_acknowledged(intake: int) -> None:
    code, reply = send(intake, plain())
    assert (code, reply) == (250, "2.0.0 Report #1 received")
    report = only_report()
    assert report.project.slug == "llm-d"
    assert report.title == "Prompt injection reaches the tool router"
    assert report.fields == {"description": "The router executes tool calls taken from model output."}
    assert report.reporter["email"] == RITA
    assert report.reporter["name"] == "Rita Reporter"
    assert report.reporter["credit"] == "name"
    assert not report.attachments.exists()
    acknowledgement = OutboundEmail.objects.get(kind="report-received")
    assert acknowledgement.message["to"] == [RITA]
    assert "tool router" not in str(acknowledgement.message["text"])


def test_html_only_mail_becomes_safe_text(intake: int) -> None:
    message = mail()
    message.set_content(
        "<html><head><title>Mail</title><style>p {color: red}</style></head><body>"
        "<p>The <b>router</b> runs <i>any</i> tool&nbsp;call.</p><script>alert(1)</script>"
        '<p>Steps:<br>one<br>two</p><img src="x" onerror="alert(2)"><a href="javascript:x">link</a>'
        "</body></html>",
        subtype="html",
    )
    assert send(intake, message.as_bytes())[0] == 250
    description = only_report().fields["description"]
    assert description == "The router runs any tool call.\n\nSteps:\none\ntwo\nlink"
    for markup in ("<", ">", "alert", "color", "Mail", "javascript"):
        assert markup not in description


def test_the_plain_text_alternative_is_preferred_to_the_html_one(intake: int) -> None:
    message = mail()
    message.set_content("Plain words.")
    message.add_alternative("<p>HTML words.</p>", subtype="html")
    assert send(intake, message.as_bytes())[0] == 250
    assert only_report().fields["description"] == "Plain words."


def test_attachments_are_stored_with_the_report(intake: int) -> None:
    message = mail()
    message.set_content("See the proof of concept attached.")
    message.add_attachment(b"#!/bin/sh\necho pwned\n", "application", "x-sh", filename="poc.sh")
    message.add_attachment(b"\x89PNG\r\n", "image", "png", filename="../../screen shot.png")
    assert send(intake, message.as_bytes())[0] == 250
    report = only_report()
    assert report.fields["description"] == "See the proof of concept attached."
    stored = sorted((a.filename, a.content_type, a.content) for a in report.attachments.all())
    assert stored == [
        ("poc.sh", "application/x-sh", b"#!/bin/sh\necho pwned\n"),
        ("screen shot.png", "image/png", b"\x89PNG\r\n"),
    ]


def test_a_latin_1_body_and_an_encoded_subject_are_decoded(intake: int) -> None:
    raw = (
        b"From: =?iso-8859-1?q?J=F6rg_M=FCller?= <jorg@researcher.test>\r\n"
        b"To: " + INTAKE_A.encode() + b"\r\n"
        b"Subject: =?iso-8859-1?q?=DCberlauf_im_Parser?=\r\n"
        b"Message-ID: <latin@researcher.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xfc\xdfe, der Parser l\xe4uft \xfcber.\r\n"
    )
    assert send(intake, raw)[0] == 250
    report = only_report()
    assert report.title == "Überlauf im Parser"
    assert report.fields["description"] == "Grüße, der Parser läuft über."
    assert report.reporter["name"] == "Jörg Müller"
    assert report.reporter["email"] == "jorg@researcher.test"


def test_a_forwarded_message_is_attached_and_its_text_appended(intake: int) -> None:
    original = mail("Crash in the scheduler", From="Dev <dev@elsewhere.test>", Message_ID="<orig@x.test>")
    original.set_content("The scheduler crashes on an empty queue.")
    message = mail("Fwd: Crash in the scheduler")
    message.set_content("Forwarding what a user sent us.")
    message.add_attachment(original)
    assert send(intake, message.as_bytes())[0] == 250
    report = only_report()
    assert report.fields["description"] == (
        f"Forwarding what a user sent us.\n\n{FORWARDED_LINE}\nFrom: Dev <dev@elsewhere.test>\n"
        "Subject: Crash in the scheduler\n\nThe scheduler crashes on an empty queue."
    )
    attachment = report.attachments.get()
    assert (attachment.filename, attachment.content_type) == ("forwarded-1.eml", "message/rfc822")
    assert b"The scheduler crashes on an empty queue." in attachment.content


def test_an_unknown_recipient_is_refused_at_rcpt_time(intake: int) -> None:
    code, reply = send(intake, plain(), to="nobody@llm-d.test")
    assert (code, reply) == (550, "5.1.1 <nobody@llm-d.test>: no such intake address")
    assert not Report.objects.exists()


def test_intake_addresses_match_whatever_their_case(intake: int) -> None:
    assert send(intake, plain(), to=INTAKE_A.upper())[0] == 250
    assert only_report().project.slug == "llm-d"


def test_one_message_cannot_report_to_two_projects(intake: int) -> None:
    with smtplib.SMTP("127.0.0.1", intake, timeout=30) as client:
        client.ehlo()
        client.mail(RITA)
        assert client.rcpt(INTAKE_A)[0] == 250
        assert client.rcpt(INTAKE_B) == (452, b"4.5.3 one project per message")
        code, _ = client.data(plain())
    assert code == 250
    assert only_report().project.slug == "llm-d"


def test_an_oversized_message_is_refused_with_552(settings: Settings, start_intake: StartIntake) -> None:
    settings.SMTP_INTAKE_MAX_BYTES = 2000
    port = start_intake()
    big = plain("A line of a long report.\n" * 200)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        assert client.has_extn("size")
        assert client.mail(RITA, [f"SIZE={len(big)}"])[0] == 552  # announced: refused at once
        client.rset()
        client.mail(RITA)
        client.rcpt(INTAKE_A)
        assert client.data(big) == (552, b"5.3.4 message too big: the limit is 2000 bytes")
    assert send(port, plain())[0] == 250


def test_an_overlong_line_is_refused_with_a_clear_reason(intake: int) -> None:
    raw = b"Subject: long\r\nX-Padding: " + b"a" * 2000 + b"\r\n\r\nbody\r\n"
    code, reply = send(intake, raw)
    assert code == 500
    assert reply.startswith("5.5.2 line too long: a header or text line is longer than 1000 characters")
    assert not Report.objects.exists()


def test_a_broken_mime_message_is_read_as_text_and_the_server_keeps_serving(intake: int) -> None:
    raw = (
        b"From: rita@researcher.test\r\nSubject: broken\r\nMessage-ID: <broken@researcher.test>\r\n"
        b'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\n'
        b"Text with no boundary line at all.\r\n"
    )
    assert send(intake, raw) == (250, "2.0.0 Report #1 received")
    assert only_report().fields["description"] == "Text with no boundary line at all."
    assert send(intake, plain().replace(b"first@", b"second@"))[0] == 250


def test_a_message_without_any_body_is_refused_with_its_reason(intake: int) -> None:
    code, reply = send(intake, b"From: rita@researcher.test\r\nSubject: empty\r\n\r\n")
    assert (code, reply) == (
        550,
        (
            "5.6.0 the message cannot be read as a report: "
            "the message has no text and no attachments: there is no report"
        ),
    )
    assert send(intake, plain())[0] == 250


def test_a_submission_the_policy_refuses_gets_550_naming_the_field(intake: int) -> None:
    code, reply = send(intake, plain().replace(RITA.encode(), b"rita-at-nowhere"))
    assert (code, reply) == (550, "5.6.0 the report was refused: reporter_email: is not an email address")


def test_the_same_message_id_twice_makes_one_report(intake: int) -> None:
    first = send(intake, plain())
    again = send(intake, plain())
    assert first == again == (250, "2.0.0 Report #1 received")
    assert Report.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="report-received").count() == 1


def test_an_unexpected_failure_answers_451_and_logs_no_contents(
    intake: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Prompt injection reaches the tool router")

    monkeypatch.setattr("vulndesk.intake.smtpd.do_receive_report", fail)
    with caplog.at_level(logging.ERROR, logger="vulndesk.intake.smtpd"):
        assert send(intake, plain()) == (451, "4.3.0 temporary failure, try again later")
    assert "RuntimeError" in caplog.text
    assert "tool router" not in caplog.text


def test_a_new_intake_address_is_accepted_once_the_cache_expires(
    start_intake: StartIntake, project_a: Project
) -> None:
    port = start_intake(cache_seconds=0)
    document = dict(project_a.policy_document)
    document["contacts"] = {**document["contacts"], "intake_addresses": ["reports@llm-d.test"]}
    do_update_policy(project_a, validate_policy(document), acting_user=None)
    assert send(port, plain(), to=INTAKE_A)[0] == 550
    assert send(port, plain(), to="reports@llm-d.test")[0] == 250


# The parser alone: raw bytes in, a ParsedEmail or a MailParseError out.


def test_a_mail_without_subject_or_sender_still_parses() -> None:
    parsed = parse_report_email(b"\r\nJust text.\r\n")
    assert parsed.submission.title == NO_SUBJECT
    assert parsed.submission.description == "Just text."
    assert (parsed.submission.reporter_email, parsed.submission.credit) == ("", "anonymous")
    assert parsed.message_id == ""
    assert "no single From address: the reporter gets no acknowledgement" in parsed.problems


def test_a_header_larger_than_64_kib_is_refused() -> None:
    raw = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"f" * 900) for n in range(80)) + b"\r\nbody\r\n"
    with pytest.raises(MailParseError, match="header is larger than 64 KiB"):
        parse_report_email(raw)


def test_more_than_100_parts_are_refused() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(MAX_PARTS + 1))
    raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    with pytest.raises(MailParseError, match="more than 100 MIME parts"):
        parse_report_email(raw)


def test_nesting_deeper_than_10_is_refused() -> None:
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n) for n in range(12)
    )
    with pytest.raises(MailParseError, match="nest deeper than 10 levels"):
        parse_report_email(b"Subject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\ndeep\r\n")


def test_without_a_key_the_parser_keeps_an_encrypted_message_as_attachments() -> None:
    raw = (
        b"From: rita@researcher.test\r\nSubject: secret\r\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e\r\n\r\n'
        b"--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b'--e\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
        b"-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n--e--\r\n"
    )
    parsed = parse_report_email(raw)
    assert [(a.filename, a.content_type) for a in parsed.submission.attachments] == [
        ("part-1.bin", "application/pgp-encrypted"),
        ("encrypted.asc", "application/octet-stream"),
    ]
    assert parsed.submission.description.startswith("(The message has no readable text")
    assert "OpenPGP-encrypted content is kept as attachments, not decrypted" in parsed.problems


def test_an_unknown_charset_is_read_as_utf8_and_noted() -> None:
    raw = "Subject: x\r\nContent-Type: text/plain; charset=x-martian\r\n\r\nnaïve\r\n".encode()
    parsed = parse_report_email(raw)
    assert parsed.submission.description == "naïve"
    assert "unknown charset 'x-martian': the text was read as UTF-8" in parsed.problems


@pytest.mark.parametrize(
    ("charset", "text"),
    [("windows-1252", "“quoted” \u2013 €5"), ("koi8-r", "Уязвимость"), ("shift_jis", "脆弱性")],
)
def test_bodies_in_any_declared_charset_are_decoded(charset: str, text: str) -> None:
    header = f"Subject: x\r\nContent-Type: text/plain; charset={charset}\r\n\r\n"
    assert parse_report_email(header.encode() + text.encode(charset)).submission.description == text


def sample_message() -> bytes:
    message = mail()
    message.set_content("Body text.")
    message.add_alternative("<p>Body <b>text</b>.</p>", subtype="html")
    message.add_attachment(b"data", "application", "octet-stream", filename="poc.bin")
    return message.as_bytes()


SAMPLE = sample_message()
TOKENS = [b"\r\n", b"\r\n\r\n", b"--", b"boundary=", b"=?utf-8?q?", b"=?", b"?=", b"(", b"<", b'"', b"\x00"]
TOKENS += [b"Content-Type: multipart/mixed; boundary=x\r\n", b"charset=idna", b"message/rfc822", b"\xff"]


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    raw = bytearray(SAMPLE)
    for _ in range(draw(st.integers(1, 12))):
        position = draw(st.integers(0, len(raw)))
        chunk = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            raw[position:position] = chunk
        elif action == "delete":
            del raw[position : position + len(chunk)]
        else:
            raw[position : position + len(chunk)] = chunk
    return bytes(raw)


FUZZ_EXAMPLES = int(os.environ.get("VULNDESK_FUZZ_EXAMPLES", "200"))
PARSE_TIME_LIMIT = 10  # seconds: a message the parser has not finished by then is a hang


def _hang(_signum: int, _frame: object) -> None:
    raise AssertionError(f"the parser ran longer than {PARSE_TIME_LIMIT} s on one message: a hang")


def only_parsed_or_refused(raw: bytes) -> None:
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(PARSE_TIME_LIMIT)
    try:
        _parsed_or_refused(raw)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _parsed_or_refused(raw: bytes) -> None:
    try:
        parsed = parse_report_email(raw)
    except MailParseError as exc:
        message = str(exc)
        assert message, "a refusal must say why"
    else:
        assert isinstance(parsed, ParsedEmail)
        assert parsed.submission.title
        assert parsed.submission.description


@fuzzing(max_examples=FUZZ_EXAMPLES, deadline=None, database=None)
@given(st.binary(max_size=4000))
def test_random_bytes_parse_or_are_refused_cleanly(raw: bytes) -> None:
    only_parsed_or_refused(raw)


@fuzzing(max_examples=FUZZ_EXAMPLES, deadline=None, database=None)
@given(mutated_samples())
def test_mutated_messages_parse_or_are_refused_cleanly(raw: bytes) -> None:
    only_parsed_or_refused(raw)


def test_a_reporter_answers_by_email_and_the_reply_lands_in_the_conversation(intake: int) -> None:
    from vulndesk.cases.models import Message  # noqa: PLC0415
    from vulndesk.intake.replies import reply_address  # noqa: PLC0415

    assert send(intake, plain())[0] == 250
    report = only_report()
    answer = mail(subject="Re: your report", Message_ID="<answer@researcher.test>")
    answer.set_content("Yes, 0.3.1 is affected too.\n\nOn Monday the team wrote:\n> which version?\n")
    code, reply = send(intake, answer.as_bytes(), to=reply_address(report))
    assert (code, reply) == (250, f"2.0.0 Reply added to report #{report.number}")
    message = Message.objects.get(report=report)
    assert message.body == "Yes, 0.3.1 is affected too."
    assert message.via == "email"


def test_a_forged_reply_address_is_refused_at_rcpt(intake: int) -> None:
    with smtplib.SMTP("127.0.0.1", intake, timeout=30) as client:
        client.ehlo()
        client.mail(RITA)
        code, reply = client.rcpt("reply+" + "0" * 32 + "." + "1" * 32 + "@googlegroups.com")
    assert code == 550
    assert b"no such reply address" in reply


def test_a_sender_over_the_limit_hears_450_with_the_reason(intake: int, settings: Settings) -> None:
    settings.INTAKE_PER_SENDER_PER_HOUR = 1
    assert send(intake, plain())[0] == 250
    second = mail(subject="second", Message_ID="<second@researcher.test>")
    second.set_content("Another one.\n")
    code, reply = send(intake, second.as_bytes())
    assert code == 450
    assert "too many reports from this sender" in reply


def test_one_connecting_host_is_limited_whatever_from_it_claims(intake: int, settings: Settings) -> None:
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 2
    codes = []
    for n in range(3):
        message = mail(
            subject=f"report {n}", From=f"r{n}@researcher.test", Message_ID=f"<m{n}@researcher.test>"
        )
        message.set_content(f"Report number {n}.\n")
        codes.append(send(intake, message.as_bytes())[0])
    assert codes == [250, 250, 450]


def test_a_forged_message_id_cannot_hide_a_genuine_report(intake: int) -> None:
    junk = mail(subject="junk", Message_ID="<first@researcher.test>")
    junk.set_content("junk\n")
    assert send(intake, junk.as_bytes())[0] == 250
    assert send(intake, plain())[0] == 250  # same Message-ID, different report: both are kept
    assert Report.objects.count() == 2
    assert send(intake, plain())[0] == 250  # the genuine retry stays one report
    assert Report.objects.count() == 2


def test_the_smtp_intake_refuses_a_bomb_with_the_reason(intake: int) -> None:
    message = mail()
    message.set_content("The trace is attached.\n")
    message.add_attachment(gzip_of_zeros(1024), maintype="application", subtype="gzip", filename="trace.gz")
    code, reply = send(intake, message.as_bytes())
    assert code == 550
    assert "decompression bomb" in reply
    assert not Report.objects.exists()
