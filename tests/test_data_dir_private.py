"""Everything vulndesk writes under its data directory is its owner's alone, whatever the umask."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vulndesk.config import narrow_data_dir

from .live import VULNDESK, live_server, post_json


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual login umask, under which a file is created 0644 and a folder 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def wider_than_owner(data_dir: Path) -> list[str]:
    """Each entry under ``data_dir`` (itself included) that someone other than its owner may use."""
    top = stat.S_IMODE(data_dir.stat().st_mode)
    wider = [] if top == 0o700 else [f". {top:o}"]
    for path in sorted(data_dir.rglob("*")):
        mode, expected = stat.S_IMODE(path.lstat().st_mode), 0o700 if path.is_dir() else 0o600
        if mode != expected:
            wider.append(f"{path.relative_to(data_dir)} {mode:o}")
    return wider


def _wait_for(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.3)


def test_setup_and_a_served_instance_under_umask_022_keep_the_data_directory_private(
    tmp_path: Path, umask_022: None
) -> None:
    with live_server(tmp_path) as server:
        data_dir = Path(server.env["VULNDESK_DATA_DIR"])
        status, _ = post_json(
            server,
            "/api/v1/projects/llm-d/reports",
            {"title": "t", "description": "d", "reporter_email": "rita@researcher.test"},
        )
        assert status == 201
        mail = data_dir / "mail"
        _wait_for(lambda: mail.is_dir() and any(mail.iterdir()), "mail file")
        _wait_for((data_dir / "audit_checkpoint_key").exists, "checkpoint key")
        expected = {"secret_key", "encryption_key", "audit_checkpoint_key", "mail", "static"}
        on_sqlite = "DATABASE_URL" not in server.env
        if on_sqlite:
            expected |= {"vulndesk.sqlite3", "vulndesk.sqlite3-wal", "vulndesk.sqlite3-shm"}
        # SQLite removes -wal and -shm when its last connection closes: hold one open to see them.
        with contextlib.closing(
            sqlite3.connect(data_dir / "vulndesk.sqlite3" if on_sqlite else ":memory:")
        ) as db:
            db.execute("SELECT count(*) FROM intake_report" if on_sqlite else "SELECT 1").fetchone()
            assert expected <= {p.name for p in data_dir.iterdir()}
            assert wider_than_owner(data_dir) == []


def test_migrate_narrows_what_an_older_version_left_readable(tmp_path: Path, umask_022: None) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "mail").mkdir(parents=True)
    (data_dir / "mail" / "old.log").write_text("a tracking link")
    assert wider_than_owner(data_dir) == [". 755", "mail 755", "mail/old.log 644"]
    env = {**os.environ, "VULNDESK_DATA_DIR": str(data_dir)}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "VULNDESK_SECRET_KEY", "VULNDESK_ENCRYPTION_KEYS"):
        env.pop(name, None)
    subprocess.run([VULNDESK, "migrate"], env=env, check=True, capture_output=True, timeout=300)
    assert wider_than_owner(data_dir) == []
    assert narrow_data_dir(data_dir) == 0
