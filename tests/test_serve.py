from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from sectxt import Parser

from .live import live_server, stop

pytestmark = pytest.mark.server


def test_serve_answers_health_security_txt_and_openapi_then_stops_cleanly(tmp_path: Path) -> None:
    with live_server(tmp_path, base_url="https://desk.example.org") as server:
        status, _, body = server.get("/healthz")
        assert status == 200
        assert json.loads(body)["database"] == "ok"

        status, headers, body = server.get("/.well-known/security.txt")
        assert status == 200
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        parsed = Parser(body, urls="https://desk.example.org/.well-known/security.txt")
        assert parsed.errors == []
        assert parsed.is_valid()

        status, _, body = server.get("/api/v1/openapi.json")
        assert status == 200
        assert json.loads(body)["openapi"].startswith("3.")

        status, _, body = server.get("/p/llm-d/")
        assert status == 200
        assert b"acknowledged within 3 working days" in body

        assert stop(server, signal.SIGINT) == 0
        assert "Traceback" not in server.logs()


def test_serve_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    from .live import VULNDESK  # noqa: PLC0415

    env = {**os.environ, "VULNDESK_DATA_DIR": str(tmp_path / "empty")}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    result = subprocess.run(
        [VULNDESK, "serve", "--no-smtp", "--no-worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "vulndesk migrate" in result.stderr
