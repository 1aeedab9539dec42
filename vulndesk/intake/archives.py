"""Decompression bombs: attachments that would expand to far more than any proof of concept needs.

The server never unpacks an attachment for itself, but the team will open it. A zip's central
directory can lie, and an archive can hold archives (a zip of ten zips of 500 MiB of zeros) or be a
single compressed file (a 1 GiB gzip), so the directory alone says nothing. Every layer here is
really decompressed, by streaming in small chunks (memory stays bounded; a nested zip, which needs
random access, is spooled to a temporary file), and every byte that comes out of a decompressor
counts against one budget for the whole report. Decompression stops the moment the budget, the
nesting depth or the number of files is exceeded, so a bomb costs at most the budget's worth of
work.

Not covered: encrypted zip entries cannot be read without their password (reporters send malware
samples that way), so only their declared size counts; formats other than zip, gzip, tar, bzip2
and xz (7z, rar, zstd...) are stored as the bytes they are.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from typing import IO, Protocol, TypeAlias

# One budget for everything a report's attachments expand to. Small repetitive logs compress
# very well and are fine; beyond RATIO_CHECK_ABOVE_BYTES the expansion must stay under
# MAX_COMPRESSION_RATIO times what was sent, and never beyond MAX_EXPANDED_BYTES.
MAX_EXPANDED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_ABOVE_BYTES = 16 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 10_000
# A tar.gz is two layers, a zip of tar.gz four; more is a maze, not a proof of concept.
MAX_NESTING = 4

_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024
_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class _Readable(Protocol):
    """What a layer is read from: a decompressor, a zip entry or a tar member."""

    def read(self, size: int = ..., /) -> bytes: ...


class ArchiveRefused(Exception):  # noqa: N818 - a refusal, not an error of ours
    """The reason an attachment is refused, in words a reporter reads."""


class Budget:
    """What the report's attachments may still expand to, and how many files they may hold."""

    def __init__(self, sent_bytes: int) -> None:
        ratio_bound = max(RATIO_CHECK_ABOVE_BYTES, sent_bytes * MAX_COMPRESSION_RATIO)
        self.limit = min(MAX_EXPANDED_BYTES, ratio_bound)
        self.expanded = 0
        self.entries = 0

    def spend(self, size: int) -> None:
        self.expanded += size
        if self.expanded > self.limit:
            raise ArchiveRefused(
                f"looks like a decompression bomb: it expands to more than {self.limit} bytes; "
                "send the files themselves, or a smaller archive"
            )

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > MAX_ARCHIVE_ENTRIES:
            raise ArchiveRefused(f"holds more than {MAX_ARCHIVE_ENTRIES} files (the limit)")


class _Counted(io.RawIOBase):
    """A layer as a raw stream; a decompressor's output is read through the budget."""

    def __init__(self, source: _Readable, budget: Budget | None) -> None:
        self._source = source
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(min(len(buffer), _CHUNK))
        if self._budget is not None:
            self._budget.spend(len(data))
        buffer[: len(data)] = data
        return len(data)


# A layer as _inspect reads it: the attachment itself, or any inner layer with a buffer over it.
_Reader: TypeAlias = "io.BytesIO | io.BufferedReader[_Counted]"


def check_attachments(contents: Iterable[tuple[str, bytes]]) -> tuple[str, str] | None:
    """The first attachment refused and why, or None; ``contents`` is (name, bytes) pairs."""
    files = list(contents)
    budget = Budget(sum(len(content) for _, content in files))
    for name, content in files:
        try:
            _inspect(io.BytesIO(content), budget, depth=0)
        except ArchiveRefused as refusal:
            return name, str(refusal)
    return None


def _inspect(stream: io.BytesIO | _Counted, budget: Budget, *, depth: int) -> None:
    """Read ``stream`` to its end, opening what it holds when it is an archive."""
    reader = stream if isinstance(stream, io.BytesIO) else io.BufferedReader(stream, _CHUNK)
    try:
        kind = _kind(_head(reader))
        if kind and depth >= MAX_NESTING:
            raise ArchiveRefused(f"holds archives nested more than {MAX_NESTING} deep")
        if kind == "zip":
            _inspect_zip(reader, budget, depth=depth)
        elif kind == "tar":
            _inspect_tar(reader, budget, depth=depth)
        elif kind:
            _inspect(_Counted(_decompressor(kind, reader), budget), budget, depth=depth + 1)
        elif depth:
            _drain(reader)
    except _BROKEN:
        # A broken layer is kept as the bytes it is; whatever of it could be read was counted.
        return


def _head(reader: _Reader) -> bytes:
    if isinstance(reader, io.BufferedReader):
        return reader.peek(512)[:512]
    return reader.getbuffer()[:512].tobytes()


def _kind(head: bytes) -> str:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head[257:262] == b"ustar":
        return "tar"
    return ""


def _decompressor(kind: str, reader: _Reader) -> io.BufferedIOBase:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=reader, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(reader, mode="rb")
    return lzma.LZMAFile(reader, mode="rb")


def _drain(reader: _Reader) -> None:
    while reader.read(_CHUNK):
        pass


def _inspect_zip(reader: _Reader, budget: Budget, *, depth: int) -> None:
    if isinstance(reader, io.BytesIO):
        _inspect_zip_file(reader, budget, depth=depth)
        return
    # A zip is read from its end (the central directory), so a nested one needs random access.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(reader, spool, _CHUNK)
        spool.seek(0)
        _inspect_zip_file(spool, budget, depth=depth)


def _inspect_zip_file(file: IO[bytes], budget: Budget, *, depth: int) -> None:
    with zipfile.ZipFile(file) as archive:
        entries = archive.infolist()
        for _ in entries:
            budget.count_entry()
        for entry in entries:
            if not entry.is_dir():
                _inspect_zip_entry(archive, entry, budget, depth=depth)


def _inspect_zip_entry(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: Budget, *, depth: int
) -> None:
    # An entry that cannot be opened (encrypted, an unknown method) counts by its declared size,
    # and the entries after it are still read: one odd entry must not hide a bomb behind it.
    if entry.flag_bits & 0x1:
        budget.spend(entry.file_size)
        return
    try:
        member = archive.open(entry)
    except _BROKEN:
        budget.spend(entry.file_size)
        return
    with member:
        _inspect(_Counted(member, budget), budget, depth=depth + 1)


def _inspect_tar(reader: IO[bytes], budget: Budget, *, depth: int) -> None:
    # Streaming mode ("r|"): members are read in order, never by seeking back.
    with tarfile.open(fileobj=reader, mode="r|") as archive:
        for member in archive:
            budget.count_entry()
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                # A tar stores its members as they are: their bytes were counted by the layer around it.
                _inspect(_Counted(extracted, None), budget, depth=depth + 1)
