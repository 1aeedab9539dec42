"""Mail exactly as a reporter's client reads it: the raw messages a real SMTP sink received.

Rita mails a report to llm-d's real SMTP intake (or sends it over the API); the outbox delivers to
a real relay on loopback; the tests read what arrived: threading headers, From, Reply-To, and the
OpenPGP signature and encryption, checked with Rita's own real gpg. Her answer to the Reply-To
address goes back through the SMTP intake and lands in the case.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import gnupg
import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk.accounts.models import User
from vulndesk.cases.actions import do_post_team_message
from vulndesk.cases.models import Message
from vulndesk.intake.models import Report
from vulndesk.intake.smtpd import IntakeHandler, intake_controller
from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.notify.tasks import deliver
from vulndesk.openpgp.actions import do_generate_project_key
from vulndesk.openpgp.keys import GPGCONF_BINARY
from vulndesk.openpgp.models import ProjectKey
from vulndesk.projects.models import Project

from .conftest import Relay
from .live import free_port
from .test_openpgp import Correspondent, _new_key, entity, pgp_mime
from .test_smtp_intake import INTAKE_A, RITA, mail, plain, send

MAIL_DOMAIN = "vulndesk.example"
REPLY_DOMAIN = "reply.vulndesk.example"
FROM = f"llm-d security desk <security@{MAIL_DOMAIN}>"


@pytest.fixture(scope="module")
def reporter() -> Iterator[Correspondent]:
    """Rita, with a GnuPG home of her own: only she holds her secret key."""
    with tempfile.TemporaryDirectory(prefix="reporter-gnupg-") as home:
        gpg = gnupg.GPG(gnupghome=home, options=["--pinentry-mode", "loopback"])
        yield Correspondent(gpg, _new_key(gpg, "Rita Reporter", RITA))
        subprocess.run([GPGCONF_BINARY, "--homedir", home, "--kill", "all"], check=False)


@pytest.fixture
def mail_settings(settings: Settings) -> None:
    settings.MAIL_DOMAIN = MAIL_DOMAIN
    settings.REPLY_DOMAIN = REPLY_DOMAIN
    settings.DEFAULT_FROM_EMAIL = FROM


@pytest.fixture
def intake(transactional_db: None, project_a: Project, alice: User, mail_settings: None) -> Iterator[int]:
    """llm-d's real SMTP intake on a free port; Alice is on llm-d's team."""
    port = free_port()
    controller = intake_controller("127.0.0.1", port, IntakeHandler())
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def sink(relay: Relay) -> Relay:
    relay.start()
    return relay


def deliver_all() -> None:
    for uid in OutboundEmail.objects.filter(status=OutboundStatus.QUEUED).values_list("uid", flat=True):
        assert deliver(str(uid)) == "sent"


def received(sink: Relay, to: str) -> list[EmailMessage]:
    """What the sink received for ``to``, oldest first, parsed as a mail client parses it."""
    messages = []
    for text in sink.received:
        parsed = message_from_bytes(text.encode(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        if to in str(parsed["To"]):
            messages.append(parsed)
    return messages


def web_report(client: Client) -> Report:
    payload = {"title": "Tool router", "description": "Details.", "reporter_email": RITA}
    answer = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert answer.status_code == 201
    return Report.objects.get()


# Threading, From, Reply-To -------------------------------------------------------------------


def test_every_mail_about_a_mailed_report_threads_under_the_reporters_own_message(
    intake: int, sink: Relay, alice: User
) -> None:
    assert send(intake, plain())[0] == 250
    report = Report.objects.get()
    deliver_all()
    do_post_team_message(report, "Which version did you test?", internal=False, acting_user=alice)
    deliver_all()

    acknowledgement, team_reply = received(sink, RITA)
    for sent in (acknowledgement, team_reply):
        assert sent["In-Reply-To"] == "<first@researcher.test>"  # Rita's own Message-ID
        assert sent["References"] == "<first@researcher.test>"
        assert sent["From"] == FROM
        assert str(sent["Message-ID"]).endswith(f"@{MAIL_DOMAIN}>")
        [reply_to] = sent["Reply-To"].addresses
        assert reply_to.domain == REPLY_DOMAIN  # never googlegroups.com, the intake's domain
        assert reply_to.username.startswith("reply+")
    assert acknowledgement["Message-ID"] != team_reply["Message-ID"]


def test_a_message_id_unfit_to_repeat_is_not_copied_and_our_acknowledgement_starts_the_thread(
    intake: int, sink: Relay
) -> None:
    odd = mail(Message_ID="<two words@researcher.test> <second@x>")
    odd.set_content("The router runs tool calls.\n")
    assert send(intake, odd.as_bytes())[0] == 250
    deliver_all()
    [acknowledgement] = received(sink, RITA)
    assert acknowledgement["In-Reply-To"] is None
    assert acknowledgement["Message-ID"] == Report.objects.get().thread_root
    assert str(acknowledgement["Message-ID"]).endswith(f"@{MAIL_DOMAIN}>")


def test_a_web_reports_thread_starts_at_the_acknowledgement(
    client: Client, intake: int, sink: Relay, alice: User
) -> None:
    report = web_report(client)
    deliver_all()
    do_post_team_message(report, "Thanks, confirmed.", internal=False, acting_user=alice)
    deliver_all()
    acknowledgement, team_reply = received(sink, RITA)
    assert acknowledgement["Message-ID"] == report.thread_root
    assert acknowledgement["In-Reply-To"] is None
    assert acknowledgement["Reply-To"].addresses[0].domain == REPLY_DOMAIN  # it invites a reply
    assert team_reply["In-Reply-To"] == team_reply["References"] == report.thread_root


def test_the_teams_notices_about_a_report_form_a_thread_of_their_own(
    client: Client, intake: int, sink: Relay
) -> None:
    report = web_report(client)
    deliver_all()
    answer = mail(subject="Re: your report", Message_ID="<answer@researcher.test>")
    answer.set_content("It is 0.3.1.\n")
    assert send(intake, answer.as_bytes(), to=_reply_to_of_acknowledgement(sink))[0] == 250
    deliver_all()
    new_report, replied = received(sink, "alice@llm-d.test")
    assert new_report["Message-ID"] == report.team_thread_root != report.thread_root
    assert new_report["In-Reply-To"] is None
    assert replied["In-Reply-To"] == replied["References"] == report.team_thread_root
    assert replied["From"] == FROM


def _reply_to_of_acknowledgement(sink: Relay) -> str:
    [acknowledgement] = received(sink, RITA)
    return str(acknowledgement["Reply-To"].addresses[0].addr_spec)


def test_an_answer_to_the_reply_to_address_lands_in_the_case(intake: int, sink: Relay) -> None:
    assert send(intake, plain())[0] == 250
    deliver_all()
    address = _reply_to_of_acknowledgement(sink)
    answer = mail(subject="Re: your report", Message_ID="<answer@researcher.test>")
    answer["In-Reply-To"] = "<first@researcher.test>"
    answer.set_content("Also affects 0.3.1.\n")
    code, reply = send(intake, answer.as_bytes(), to=address)
    report = Report.objects.get()
    assert (code, reply) == (250, f"2.0.0 Reply added to report #{report.number}")
    assert Message.objects.get(report=report).body == "Also affects 0.3.1."


def test_a_reply_address_on_another_domain_is_refused(intake: int, sink: Relay) -> None:
    assert send(intake, plain())[0] == 250
    deliver_all()
    local = _reply_to_of_acknowledgement(sink).partition("@")[0]
    code, reply = send(intake, plain(), to=f"{local}@elsewhere.example")
    assert code == 550
    assert "no such reply address" in reply


def test_a_reply_address_handed_out_before_on_the_intake_domain_still_reaches_the_case(
    intake: int, sink: Relay
) -> None:
    assert send(intake, plain())[0] == 250
    deliver_all()
    local = _reply_to_of_acknowledgement(sink).partition("@")[0]
    answer = mail(subject="Re: your report", Message_ID="<late@researcher.test>")
    answer.set_content("Answering an old mail.\n")
    assert send(intake, answer.as_bytes(), to=f"{local}@googlegroups.com")[0] == 250
    assert Message.objects.get().body == "Answering an old mail."


# Signatures and encryption, checked with Rita's real gpg ------------------------------------


@pytest.fixture
def llm_d_key(project_a: Project) -> ProjectKey:
    return do_generate_project_key(project_a, acting_user=None)


def _knows_the_project_key(reporter: Correspondent, key: ProjectKey) -> gnupg.GPG:
    reporter.gpg.import_keys(key.public_key)
    return reporter.gpg


def _signed_part(raw: bytes, boundary: str) -> bytes:
    """The first body part exactly as it travelled (RFC 3156 §5: what the signature covers)."""
    delimiter = b"\r\n--" + boundary.encode()
    start = raw.index(b"--" + boundary.encode() + b"\r\n") + len(boundary) + 4
    return raw[start : raw.index(delimiter, start)]


def test_mail_to_a_reporter_without_a_key_is_signed_with_the_projects_key(
    client: Client, intake: int, sink: Relay, llm_d_key: ProjectKey, reporter: Correspondent
) -> None:
    web_report(client)
    deliver_all()
    [acknowledgement] = received(sink, RITA)
    assert acknowledgement.get_content_type() == "multipart/signed"
    assert acknowledgement.get_param("protocol") == "application/pgp-signature"
    assert str(acknowledgement.get_param("micalg")).startswith("pgp-sha")
    body, signature = acknowledgement.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert signature.get_content_type() == "application/pgp-signature"
    text = next(part for part in body.walk() if part.get_content_type() == "text/plain")
    assert "reply to this email" in str(text.get_content())

    raw = sink.received[0].encode()
    signed = _signed_part(raw, str(acknowledgement.get_boundary()))
    gpg = _knows_the_project_key(reporter, llm_d_key)
    armored = signature.get_payload(decode=True)
    assert isinstance(armored, bytes)
    path = f"{gpg.gnupghome}/acknowledgement.sig"
    with open(path, "wb") as handle:  # noqa: PTH123 - gpg reads the signature from a file
        handle.write(armored)
    verified = gpg.verify_data(path, signed)
    assert verified.valid, verified.status
    assert verified.pubkey_fingerprint == llm_d_key.fingerprint
    # A changed byte breaks it: the signature covers the part as it travelled.
    assert not gpg.verify_data(path, signed.replace(b"report", b"rep0rt", 1)).valid


def test_mail_to_a_reporter_with_a_key_is_signed_then_encrypted(
    intake: int, sink: Relay, reporter: Correspondent
) -> None:
    key = do_generate_project_key(Project.objects.get(slug="llm-d"), acting_user=None)
    inner = entity("The scheduler leaks tokens.", key=reporter.public_key())
    assert send(intake, pgp_mime(reporter.encrypt(inner, key.public_key)))[0] == 250
    deliver_all()
    [acknowledgement] = received(sink, RITA)
    assert acknowledgement.get_content_type() == "multipart/encrypted"
    assert acknowledgement["In-Reply-To"] == "<pgp@researcher.test>"
    assert acknowledgement["Reply-To"].addresses[0].domain == REPLY_DOMAIN
    _control, encrypted = acknowledgement.iter_parts()
    ciphertext = encrypted.get_payload(decode=True)
    assert isinstance(ciphertext, bytes)
    gpg = _knows_the_project_key(reporter, key)
    result = gpg.decrypt(ciphertext)
    assert result.ok, result.status
    # One OpenPGP message, signed inside (RFC 3156 §6.2), by the project's key.
    assert result.valid, result.status
    assert result.pubkey_fingerprint == key.fingerprint
    assert b"reply to this email" in bytes(result.data)


def test_a_distributor_notice_is_signed_inside_its_encryption(
    project_a: Project, llm_d_key: ProjectKey, reporter: Correspondent, relay: Relay, mail_settings: None
) -> None:
    from django.db import transaction  # noqa: PLC0415

    from vulndesk.notify.actions import Email, queue_email  # noqa: PLC0415

    relay.start()
    with transaction.atomic():
        outbound = queue_email(
            Email(
                kind="report-received",  # any template will do: the wrapping is what is checked
                to=["dana@distributor.example"],
                context={"project_name": "llm-d", "number": 1},
                encrypt_to=reporter.public_key(),
            ),
            project=project_a,
        )
    assert deliver(str(outbound.uid)) == "sent"
    [notice] = received(relay, "dana@distributor.example")
    assert notice.get_content_type() == "multipart/encrypted"
    ciphertext = list(notice.iter_parts())[1].get_payload(decode=True)
    assert isinstance(ciphertext, bytes)
    result = _knows_the_project_key(reporter, llm_d_key).decrypt(ciphertext)
    assert result.ok
    assert result.valid
    assert result.pubkey_fingerprint == llm_d_key.fingerprint


# Bare LF line ends over the real SMTP intake ----------------------------------------------------


def _raw_conversation(port: int, data: bytes, to: str = INTAKE_A) -> tuple[int, str]:
    """SMTP by hand: smtplib would turn bare LFs into CRLFs before sending."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        reader = connection.makefile("rb")

        def answer() -> tuple[int, str]:
            lines = []
            while True:
                line = reader.readline().decode()
                lines.append(line[4:].strip())
                if line[3:4] != "-":
                    return int(line[:3]), " ".join(lines)

        answer()
        for command in (b"EHLO researcher.test", f"MAIL FROM:<{RITA}>".encode(), f"RCPT TO:<{to}>".encode()):
            connection.sendall(command + b"\r\n")
            assert answer()[0] == 250
        connection.sendall(b"DATA\r\n")
        assert answer()[0] == 354
        connection.sendall(data + b"\r\n.\r\n")
        return answer()


def test_a_bare_lf_message_with_short_lines_is_accepted(intake: int) -> None:
    line = "The router runs tool calls taken from model output without checking them against the policy: 10."
    assert len(line) == 96
    body = "\n".join([line] * 20)
    message = (
        f"From: {RITA}\nTo: {INTAKE_A}\nSubject: Bare LF\nMessage-ID: <lf@researcher.test>\n\n{body}\n"
        "..a dot-stuffed line\n"
    ).encode()
    assert len(message) > 1000
    code, reply = _raw_conversation(intake, message)
    assert code == 250, reply
    report = Report.objects.get()
    assert report.title == "Bare LF"
    assert report.fields["description"].splitlines()[:2] == [line, line]
    assert ".a dot-stuffed line" in report.fields["description"]


def test_a_bare_lf_message_with_a_truly_long_line_is_refused_as_too_long(intake: int) -> None:
    message = f"From: {RITA}\nSubject: long\n\n{'a' * 1200}\n".encode()
    code, reply = _raw_conversation(intake, message)
    assert code == 500
    assert reply.startswith("5.5.2 line too long")
    assert not Report.objects.exists()


def test_mail_domain_settings_never_take_an_ip_literal(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415

    from vulndesk.config import mail_address, mail_domain  # noqa: PLC0415

    monkeypatch.delenv("VULNDESK_MAIL_DOMAIN", raising=False)
    assert mail_domain("VULNDESK_MAIL_DOMAIN", "127.0.0.1") == "localhost"
    assert mail_domain("VULNDESK_MAIL_DOMAIN", "desk.example.org") == "desk.example.org"
    monkeypatch.setenv("VULNDESK_MAIL_DOMAIN", "192.0.2.7")
    with pytest.raises(ImproperlyConfigured, match=r"VULNDESK_MAIL_DOMAIN='192\.0\.2\.7' is an IP address"):
        mail_domain("VULNDESK_MAIL_DOMAIN", "desk.example.org")
    monkeypatch.setenv("VULNDESK_FROM_EMAIL", "vulndesk@[127.0.0.1]")
    with pytest.raises(ImproperlyConfigured, match="VULNDESK_FROM_EMAIL"):
        mail_address("VULNDESK_FROM_EMAIL", "vulndesk@localhost")
    assert re.fullmatch(r"[^@]+@[a-z.]+", mail_address("UNSET_FOR_THIS_TEST", "vulndesk@localhost"))
