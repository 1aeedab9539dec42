"""Decompression bombs inside archives are refused with the reason, on the web form and the API;
the bombs are built here, streamed, small on disk and in memory."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import tarfile
import zipfile
import zlib

import pytest
from django.test import Client

from vulndesk.intake.archives import MAX_NESTING, check_attachments
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project

from .test_intake_web_and_api import _form_data

MIB = 1024 * 1024
ZEROS = bytes(MIB)


def _zip_of_zeros(megabytes: int) -> bytes:
    """One entry of ``megabytes`` MiB of zeros, written a MiB at a time (never held whole)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as entry,
    ):
        for _ in range(megabytes):
            entry.write(ZEROS)
    return buffer.getvalue()


def _zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def gzip_of_zeros(megabytes: int) -> bytes:
    """A gzip that expands to ``megabytes`` MiB of zeros: one 16 MiB member, repeated (RFC 1952 §2.2
    lets a gzip file hold several members, and gunzip writes them all out)."""
    member = zlib.compressobj(9, zlib.DEFLATED, 31)
    one = b"".join(member.compress(ZEROS) for _ in range(16)) + member.flush()
    return one * (megabytes // 16)


def _tar_of(entries: dict[str, bytes], compression: str = "") -> bytes:
    buffer = io.BytesIO()
    # One literal mode per call, as the type stubs want; the archive is closed by the with below.
    if compression == "xz":
        archive = tarfile.open(fileobj=buffer, mode="w:xz")  # noqa: SIM115
    elif compression == "gz":
        archive = tarfile.open(fileobj=buffer, mode="w:gz")  # noqa: SIM115
    else:
        archive = tarfile.open(fileobj=buffer, mode="w")  # noqa: SIM115
    with archive:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_of_ten_zips_of_500_mib() -> bytes:
    inner = _zip_of_zeros(500)
    return _zip_of({f"part{i}.zip": inner for i in range(10)})


def _refusal(content: bytes) -> str:
    refused = check_attachments([("poc", content)])
    assert refused is not None
    return refused[1]


def test_a_zip_of_ten_zips_of_500_mib_of_zeros_is_refused(zip_of_ten_zips_of_500_mib: bytes) -> None:
    assert len(zip_of_ten_zips_of_500_mib) < 10 * MIB  # small enough to pass the size limit
    assert "decompression bomb" in _refusal(zip_of_ten_zips_of_500_mib)


def test_a_gzip_of_one_gib_is_refused() -> None:
    bomb = gzip_of_zeros(1024)
    assert len(bomb) < 2 * MIB
    assert "decompression bomb" in _refusal(bomb)


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(lambda: bz2.compress(bytes(40 * MIB)), id="bzip2"),
        pytest.param(lambda: lzma.compress(bytes(40 * MIB), preset=0), id="xz"),
        pytest.param(lambda: _tar_of({"src/a.py": b"print(1)\n", "zeros.gz": gzip_of_zeros(512)}), id="tar"),
        pytest.param(lambda: _tar_of({"zeros.bin": bytes(40 * MIB)}, "xz"), id="tar.xz"),
        pytest.param(lambda: gzip.compress(_zip_of({"inner.gz": gzip_of_zeros(512)})), id="gzip-zip-gzip"),
    ],
)
def test_compressed_files_and_archives_of_every_kind_are_inspected(bomb: object) -> None:
    assert callable(bomb)
    assert "decompression bomb" in _refusal(bomb())


def test_the_budget_is_one_for_all_of_a_reports_files() -> None:
    # Each alone passes (12 MiB under the 16 MiB floor); together they are over it.
    one = gzip.compress(bytes(12 * MIB))
    assert check_attachments([("a.gz", one)]) is None
    refused = check_attachments([("a.gz", one), ("b.gz", one)])
    assert refused is not None
    assert refused[0] == "b.gz"


def test_archives_nested_too_deep_are_refused() -> None:
    content = b"print('hello')\n"
    for _ in range(MAX_NESTING + 1):
        content = gzip.compress(content)
    assert f"nested more than {MAX_NESTING} deep" in _refusal(content)


def test_an_unreadable_entry_does_not_hide_the_bomb_behind_it() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("odd.bin", b"x" * 100)
        archive.writestr("zeros.gz", gzip_of_zeros(512))
    raw = bytearray(buffer.getvalue())
    # Mark the first entry with a compression method nobody implements (99), in both headers.
    raw[8:10] = (99).to_bytes(2, "little")
    central = raw.index(b"PK\x01\x02")
    raw[central + 10 : central + 12] = (99).to_bytes(2, "little")
    assert "decompression bomb" in _refusal(bytes(raw))


def test_ordinary_archives_are_accepted() -> None:
    source = b"def exploit():\n    return 'payload'\n" * 500
    log = b"2026-12-03 12:00:00 INFO request served\n" * 50_000  # 2 MiB, compresses very well
    files = [
        ("poc.tar.gz", _tar_of({"poc/exploit.py": source, "poc/README": b"run it"}, "gz")),
        ("poc.zip", _zip_of({"exploit.py": source, "server.log.gz": gzip.compress(log)})),
        ("trace.log.xz", lzma.compress(log)),
        ("screenshot.png", b"\x89PNG\r\n\x1a\n" + bytes(1000)),
    ]
    assert check_attachments(files) is None


def test_the_web_form_refuses_a_bomb_with_the_reason(client: Client, project_a: Project) -> None:
    data: dict[str, object] = dict(_form_data(client, "llm-d"))
    data["attachments"] = [_named(gzip_of_zeros(1024), "trace.log.gz")]
    page = client.post("/p/llm-d/report/", data)
    assert "decompression bomb" in page.content.decode()
    assert not Report.objects.exists()


def test_the_api_refuses_a_bomb_with_the_reason(
    client: Client, project_a: Project, zip_of_ten_zips_of_500_mib: bytes
) -> None:
    body = {
        "title": "t",
        "description": "d",
        "attachments": [
            {"filename": "poc.zip", "content_base64": base64.b64encode(zip_of_ten_zips_of_500_mib).decode()}
        ],
    }
    answer = client.post("/api/v1/projects/llm-d/reports", json.dumps(body), content_type="application/json")
    assert answer.status_code == 422
    assert "decompression bomb" in answer.content.decode()
    assert not Report.objects.exists()


def _named(content: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload
