from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from vulndesk.config import env_bool, env_int, env_secret, generated_secret

from .live import VULNDESK


def test_a_bad_boolean_fails_loudly_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VULNDESK_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="VULNDESK_DEBUG='maybe' is not a boolean"):
        env_bool("VULNDESK_DEBUG", default=False)


def test_a_bad_number_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VULNDESK_SMTP_PORT", "twenty-five")
    with pytest.raises(ImproperlyConfigured, match="VULNDESK_SMTP_PORT"):
        env_int("VULNDESK_SMTP_PORT", default=25)
    monkeypatch.setenv("VULNDESK_SMTP_PORT", "-1")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("VULNDESK_SMTP_PORT", default=25, minimum=1)


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.delenv("VULNDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("VULNDESK_SECRET_KEY_FILE", str(secret_file))
    assert env_secret("VULNDESK_SECRET_KEY") == "from-a-file"


def test_a_secret_given_twice_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VULNDESK_SECRET_KEY", "direct")
    monkeypatch.setenv("VULNDESK_SECRET_KEY_FILE", str(tmp_path / "secret"))
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("VULNDESK_SECRET_KEY")


def test_a_missing_secret_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VULNDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("VULNDESK_SECRET_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="cannot read the file"):
        env_secret("VULNDESK_SECRET_KEY")


def test_the_embedded_default_generates_a_private_secret_once_and_reuses_it(tmp_path: Path) -> None:
    first = generated_secret(tmp_path, "secret_key")
    second = generated_secret(tmp_path, "secret_key")
    assert first == second
    assert len(first) >= 40
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert generated_secret(tmp_path / "other", "secret_key") != first


def test_a_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    generated_secret(tmp_path, "secret_key")
    (tmp_path / "secret_key").chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match="readable by its owner only"):
        generated_secret(tmp_path, "secret_key")


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("VULNDESK_AUDIT_CHECKPOINT_KEY", "too-short", "must be 32 bytes in base64url"),
        ("VULNDESK_AUDIT_CHECKPOINT_TO", "relative/checkpoints.jsonl", "must be an absolute file path"),
    ],
)
def test_a_bad_checkpoint_setting_stops_the_start(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    env = {**os.environ, "VULNDESK_DATA_DIR": str(tmp_path), variable: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([VULNDESK, "audit", "verify"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert problem in done.stderr
