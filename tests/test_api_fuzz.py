"""schemathesis against the OpenAPI document of a real server, with every check it has: no
operation answers with a 5xx, every status, content type, header and body is the one the
document promises, invalid data is refused and valid data accepted, methods a path does not
have answer 405 with ``Allow``, and the stateful checks (use after free, resources available once
made, authentication not ignored, one caller's objects not another's) hold.

The run is schemathesis' own (``schemathesis run``, all its phases: coverage, fuzzing and the
stateful links it infers), once as an anonymous caller and once with an admin's token. Half of
the generated path parameters name objects that exist (the example projects' reports and
advisory), so the requests get into the operations. Where a check cannot apply to an operation,
``tests/schemathesis.toml`` says so and why; nothing is turned off. A few cases per operation
here (``VULNDESK_FUZZ_EXAMPLES``, default 10); for a longer run:
``VULNDESK_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .live import LiveServer, live_server, post_json

pytestmark = pytest.mark.server

EXAMPLES = os.environ.get("VULNDESK_FUZZ_EXAMPLES", "10")
CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("fuzz"), "--no-smtp") as running:
        for title in ("First report", "Second report"):
            report: dict[str, object] = {"title": title, "description": "d"}
            assert post_json(running, "/api/v1/projects/llm-d/reports", report)[0] == 201
        yield running


@pytest.fixture(scope="module")
def real_objects(server: LiveServer) -> str:
    """Settings that aim half of the generated path parameters at objects that exist, so the
    requests get past the 404 and into the operations (the rest still probe for what does not)."""
    listed = server.cli("advisory", "list", "--project", "llm-d")
    assert listed.returncode == 0, listed.stderr
    advisory = listed.stdout.split()[0]
    return f"""
[dictionaries]
slugs = {{ values = ["llm-d"] }}
numbers = {{ values = [1, 2] }}
advisories = {{ values = ["{advisory}"] }}

[parameters]
"path.slug" = {{ dictionary = "slugs", probability = 0.5 }}
"path.number" = {{ dictionary = "numbers", probability = 0.5 }}
"path.identifier" = {{ dictionary = "advisories", probability = 0.5 }}
"""


@pytest.fixture(scope="module")
def admin_token(server: LiveServer) -> str:
    created = server.cli("token", "create", server.admin_email, "--name", "fuzz")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().split()[-1]


def _schemathesis(server: LiveServer, real_objects: str, tmp_path: Path, *headers: str) -> dict[str, Any]:
    """One whole schemathesis run; its JSON report (the text output goes into a failure)."""
    report = tmp_path / "schemathesis.json"
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8") + real_objects, encoding="utf-8")
    command = [SCHEMATHESIS, "--config-file", str(config), "run", server.url + "/api/v1/openapi.json"]
    command += ["--workers", "1", "--max-examples", EXAMPLES, "--no-color"]
    command += ["--report", "json", "--report-json-path", str(report)]
    for header in headers:
        command += ["--header", header]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    assert report.exists(), run.stdout + run.stderr
    result: dict[str, Any] = json.loads(report.read_text())
    assert run.returncode == 0, "\n".join([run.stdout[-12000:], run.stderr[-2000:], server.logs()[-4000:]])
    return result


def _assert_clean(result: dict[str, Any]) -> None:
    assert result["complete"]
    assert result["failures"] == []
    assert result["errors"] == []
    assert result["operations"]["tested"] == result["operations"]["total"] > 10
    assert result["warnings"]["unresolvable_reference"] == []
    phases = {name: phase["status"] for name, phase in result["phases"].items()}
    # The document has no examples for that phase; the others ran and found nothing.
    assert phases == {"examples": "skip", "coverage": "success", "fuzzing": "success", "stateful": "success"}


def test_schemathesis_finds_nothing_for_an_anonymous_caller(
    server: LiveServer, real_objects: str, tmp_path: Path
) -> None:
    result = _schemathesis(server, real_objects, tmp_path)
    _assert_clean(result)
    # Every operation behind a token was refused with its documented 401, and nothing more.
    assert "GET /api/v1/me" in result["warnings"]["missing_auth"]
    assert "Traceback" not in server.logs()


def test_schemathesis_finds_nothing_with_an_admin_token(
    server: LiveServer, real_objects: str, admin_token: str, tmp_path: Path
) -> None:
    result = _schemathesis(server, real_objects, tmp_path, f"Authorization: Bearer {admin_token}")
    _assert_clean(result)
    assert result["warnings"]["missing_auth"] == []
    # Generated requests got through validation and into the operations behind the token.
    accepted = {
        operation
        for operation, phases in result["valid_rates"].items()
        if any(rates["accepted"] for rates in phases.values())
    }
    assert {
        "GET /api/v1/me",
        "GET /api/v1/reports",
        "POST /api/v1/reports/search",
        "GET /api/v1/projects/{slug}/reports/{number}",
        "GET /api/v1/projects/{slug}/advisories/{identifier}/export/{format_name}",
    } <= accepted
    assert "Traceback" not in server.logs()
