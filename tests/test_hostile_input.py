"""Oversized, malformed and hostile input is refused with a reason, and the server keeps serving."""

from __future__ import annotations

import datetime as dt
import io
import json
import smtplib
import socket
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.intake.models import Report
from vulndesk.intake.submission import decompression_bomb
from vulndesk.projects.models import Project

from .conftest import a_report
from .live import Browser, LiveServer, live_server, post_json

pytestmark = pytest.mark.server
INTAKE = "llm-d-security-reporting@googlegroups.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("hostile")) as running:
        yield running


def _zip_of_zeros(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def _still_serving(server: LiveServer) -> None:
    assert server.get("/healthz")[0] == 200
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        assert client.noop()[0] == 250


def _smtp_send(server: LiveServer, raw: bytes) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as client:
        client.ehlo()
        client.mail("r@researcher.test")
        client.rcpt(INTAKE)
        try:
            code, reply = client.data(raw)
        except smtplib.SMTPDataError as exc:
            code, reply = (
                exc.smtp_code,
                bytes(exc.smtp_error, "utf-8") if isinstance(exc.smtp_error, str) else exc.smtp_error,
            )
        except smtplib.SMTPServerDisconnected:
            return 0, "disconnected"
    return code, reply.decode(errors="replace")


def test_a_50_mb_message_is_refused_with_552(server: LiveServer) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=120) as client:
        client.ehlo()
        assert client.has_extn("size")
        body = b"From: r@researcher.test\r\nSubject: big\r\n\r\n" + (b"A" * 998 + b"\r\n") * 52_000
        with pytest.raises(smtplib.SMTPException) as refused:
            client.sendmail("r@researcher.test", [INTAKE], body)
    assert "552" in str(refused.value)
    assert "message too big" in str(refused.value) or "size" in str(refused.value).lower()
    _still_serving(server)


def test_a_megabyte_header_is_refused_by_smtp_and_http(server: LiveServer) -> None:
    raw = b"From: r@researcher.test\r\nSubject: " + b"x" * (1024 * 1024) + b"\r\n\r\nbody\r\n"
    code, reply = _smtp_send(server, raw)
    assert code in {500, 552, 0}
    assert code == 0 or "too long" in reply or "too big" in reply
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=30)
    with sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * (1024 * 1024) + b"\r\n\r\n"
        )
        answer = sock.recv(200)
    assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431"))
    _still_serving(server)


def test_broken_mime_is_answered_with_a_reason_or_read_as_text(server: LiveServer) -> None:
    raw = (
        b"From: r@researcher.test\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"!!!not base64!!!\r\n"
    )
    code, reply = _smtp_send(server, raw)
    assert code in {250, 550}, reply
    assert reply
    _still_serving(server)


def test_a_zip_of_zeros_is_refused_on_every_channel(server: LiveServer) -> None:
    bomb = _zip_of_zeros(64)
    assert decompression_bomb(bomb)
    import base64  # noqa: PLC0415

    status, body = post_json(
        server,
        "/api/v1/projects/llm-d/reports",
        {
            "title": "t",
            "description": "d",
            "attachments": [{"filename": "poc.zip", "content_base64": base64.b64encode(bomb).decode()}],
        },
    )
    assert status == 422
    assert "decompression bomb" in json.dumps(body)
    mail = EmailMessage()
    mail["From"] = "r@researcher.test"
    mail["To"] = INTAKE
    mail["Subject"] = "zip"
    mail.set_content("see attachment")
    mail.add_attachment(bomb, maintype="application", subtype="zip", filename="poc.zip")
    code, reply = _smtp_send(server, mail.as_bytes().replace(b"\n", b"\r\n"))
    assert code == 550
    assert "decompression bomb" in reply
    _still_serving(server)


def test_a_small_zip_of_real_files_is_accepted() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("poc.py", "print('hello')\n" * 2000)
    assert decompression_bomb(buffer.getvalue()) == ""


def test_a_form_with_missing_fields_is_refused_with_a_message(server: LiveServer) -> None:
    status, page = Browser(server).post_form(
        "/p/llm-d/report/", {"title": "", "description": "", "credit": "name"}
    )
    assert status == 400
    assert "The report was not sent" in page
    assert "This field is required." in page
    _still_serving(server)


def _announce(server: LiveServer, path: str, length: int) -> bytes:
    """Send only the headers of a request of ``length`` bytes; return what the server answers."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n{{".encode()
        )
        answer = b""
        while b"the limit here is" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    return answer


def test_an_oversized_request_gets_413_saying_why_before_its_body_is_sent(server: LiveServer) -> None:
    # Ordinary API calls stop at 2 MiB; reports, with their attachments, at 40 MiB.
    for path, length in (
        ("/api/v1/projects/llm-d", 3 * 1024 * 1024),
        ("/api/v1/projects/llm-d/reports", 41 * 1024 * 1024),
    ):
        answer = _announce(server, path, length)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        assert b"the limit here is" in answer
    _still_serving(server)


def test_malformed_json_is_refused_clearly(server: LiveServer) -> None:
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(
        server.url + "/api/v1/projects/llm-d/reports",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code in {400, 422}
    refused.value.close()
    _still_serving(server)


def test_nothing_here_reached_the_logs_as_a_traceback(server: LiveServer, tmp_path: Path) -> None:
    assert "Traceback" not in server.logs()


NUL_REQUESTS = {
    "query": ("GET", "/api/v1/reports?project=a%00b", "", ""),
    "json": (
        "POST",
        "/api/v1/projects/llm-d/reports",
        '{"title": "a\\u0000b", "description": "d"}',
        "application/json",
    ),
    "form": ("POST", "/p/llm-d/report/", "title=a%00b&description=d", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("kind", sorted(NUL_REQUESTS))
def test_a_nul_character_is_refused_with_a_reason(client: Client, project_a: Project, kind: str) -> None:
    method, path, body, content_type = NUL_REQUESTS[kind]
    response = client.generic(method, path, body, content_type=content_type)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Report.objects.filter(project=project_a).exists()


def test_a_fix_date_with_any_iso_offset_is_stored_in_utc(project_a: Project, alice: User) -> None:
    from vulndesk.cases.actions.fixes import do_set_fix_plan  # noqa: PLC0415
    from vulndesk.projects.releases import PackageError  # noqa: PLC0415

    report = a_report(project_a)
    odd = dt.datetime(2026, 3, 31, 9, 24, tzinfo=dt.timezone(-dt.timedelta(hours=18, minutes=22)))
    plan = do_set_fix_plan(report, timeline="", mitigations="", fix_available_at=odd, acting_user=alice)
    plan.refresh_from_db()
    assert plan.fix_available_at == odd
    with pytest.raises(PackageError, match="between 1990 and 2200"):
        do_set_fix_plan(
            report, timeline="", mitigations="", fix_available_at=odd.replace(year=435), acting_user=alice
        )
