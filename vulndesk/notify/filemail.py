"""Mail written to files when no relay is configured: one file per message.

Django's file backend names a file by the second and the backend object's id(), and appends to it;
two mails sent in the same second by backends that happen to reuse an address end up in one file.
A random part in the name keeps every mail in a file of its own, easy to find and to count.

A mail file holds live tracking links: the folder is 0700 and each file 0600, whatever the umask.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

from django.core.mail.backends import filebased


class EmailBackend(filebased.EmailBackend):
    _fname: str | None
    stream: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        Path(self.file_path).chmod(0o700)  # type: ignore[attr-defined]  # set by the base's __init__

    def open(self) -> bool:
        if self.stream is None:
            fd = os.open(self._get_filename(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self.stream = os.fdopen(fd, "ab")
            return True
        return False

    def _get_filename(self) -> str:
        if self._fname is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
            folder: str = self.file_path  # type: ignore[attr-defined]  # set by the base's __init__
            self._fname = str(Path(folder) / f"{stamp}-{uuid.uuid4().hex}.log")
        return str(self._fname)
