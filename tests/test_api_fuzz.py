"""schemathesis against the OpenAPI document of a real server: no operation answers with a 5xx,
and every answer matches what the document promises.

Each operation gets a few valid and a few invalid generated requests here
(``VULNDESK_FUZZ_EXAMPLES``, default 15 each), as an admin holding a token, half of them aimed at
objects that exist. For a longer run: ``VULNDESK_FUZZ_EXAMPLES=500 .venv/bin/pytest
tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from .live import LiveServer, live_server, post_json

pytestmark = pytest.mark.server

EXAMPLES = int(os.environ.get("VULNDESK_FUZZ_EXAMPLES", "15"))
Case = schemathesis.Case[Any]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("fuzz"), "--no-smtp") as running:
        yield running


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    for title in ("First report", "Second report"):
        status, _ = post_json(server, "/api/v1/projects/llm-d/reports", {"title": title, "description": "d"})
        assert status == 201
    created = server.cli("token", "create", server.admin_email, "--name", "fuzz")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().split()[-1]


def _pin(case: Case) -> Case:
    """Aim half of the cases at objects that exist, so they get past the 404 and into the operation."""
    params = case.path_parameters or {}
    if "slug" in params:
        params["slug"] = "llm-d"
    if "number" in params:
        params["number"] = 1
    return case


def _on_real_objects(cases: st.SearchStrategy[Case]) -> st.SearchStrategy[Case]:
    return st.tuples(cases, st.booleans()).map(lambda pair: _pin(pair[0]) if pair[1] else pair[0])


def _fuzz(
    server: LiveServer, token: str, operation: Any, mode: GenerationMode
) -> tuple[list[str], list[int]]:
    """Run one operation's cases; the failures found (shrunk by hypothesis) and every status seen."""
    failures: list[str] = []
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=_on_real_objects(operation.as_strategy(generation_mode=mode)))
    def run(case: Case) -> None:
        response = case.call(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        statuses.append(response.status_code)
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except Exception as exc:
            failures.append(f"{operation.label} ({mode.value}): {str(exc)[:600]}")
            raise

    # hypothesis re-raises the failure it shrank; it is recorded above with the others.
    with contextlib.suppress(Exception):
        run()
    return failures, statuses


def test_no_api_operation_fails_or_breaks_its_schema(server: LiveServer, token: str) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 10
    failures: list[str] = []
    statuses: list[int] = []
    for operation, mode in itertools.product(operations, GenerationMode):
        found, seen = _fuzz(server, token, operation, mode)
        failures += found
        statuses += seen
    assert not failures, "\n\n".join([*sorted(set(failures)), server.logs()[-6000:]])
    # The generated requests reached the operations, and some got through validation to a 2xx.
    assert len(statuses) >= 2 * len(operations)
    assert any(200 <= status < 300 for status in statuses), sorted(set(statuses))
    assert "Traceback" not in server.logs()
