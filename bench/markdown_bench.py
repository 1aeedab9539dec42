"""The team's report page with 50 hostile messages (issue 16): ``python -m bench.markdown_bench``.

Messages that cost markdown-it seconds (``"[" * 40000`` made this page take 9.1 s) are posted as a
reporter posts them; then the page is served to a team member 20 times, beside the same page with
50 ordinary messages. In-process, through Django's test client, on a throwaway SQLite database:
what is measured is the view and its template, not the HTTP server. Writing each message (where
the rendering now happens, bounded) is timed too.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 20


def _prepare_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["VULNDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="vulndesk-markdown-bench-")
    os.environ["VULNDESK_REPLIES_PER_REPORT_PER_HOUR"] = "1000"
    for name in ("DATABASE_URL", "VULNDESK_SECRET_KEY", "VULNDESK_ENCRYPTION_KEYS"):
        os.environ.pop(name, None)
    import django  # noqa: PLC0415 - after the environment is set
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import setup_test_environment  # noqa: PLC0415

    django.setup()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000


def main() -> int:
    _prepare_django()
    from django.test import Client  # noqa: PLC0415

    from tests.conftest import a_report, example_policy, signed_in  # noqa: PLC0415
    from tests.test_markdown_cost import hostile_messages  # noqa: PLC0415
    from vulndesk.accounts.actions import do_create_user  # noqa: PLC0415
    from vulndesk.accounts.permissions import Role  # noqa: PLC0415
    from vulndesk.cases.actions import do_post_reporter_reply  # noqa: PLC0415
    from vulndesk.cases.models import Via  # noqa: PLC0415
    from vulndesk.projects.actions import do_import_policy  # noqa: PLC0415

    project = do_import_policy(example_policy("llm-d"), acting_user=None)
    alice = do_create_user(
        "alice@llm-d.test", role=Role.TEAM, project=project, password="p" * 16, acting_user=None
    )
    hostile, ordinary = a_report(project, "hostile"), a_report(project, "ordinary")
    writes = []
    for text in hostile_messages():
        started = time.perf_counter()
        do_post_reporter_reply(hostile, text, via=Via.WEB, acting_user=None)
        writes.append(time.perf_counter() - started)
    for n in range(50):
        text = f"An *ordinary* reply, number {n}, with `code`."
        do_post_reporter_reply(ordinary, text, via=Via.WEB, acting_user=None)
    client: Client = signed_in(alice)
    results: dict[str, float] = {}
    for name, report in (("hostile", hostile), ("ordinary", ordinary)):
        path = f"/desk/p/llm-d/reports/{report.number}/?all=1"
        assert client.get(path).status_code == 200  # warm, as a second visit would be
        samples = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            samples.append(time.perf_counter() - started)
        results[f"{name}_page_p50_ms"] = _percentile(samples, 0.5)
        results[f"{name}_page_p95_ms"] = _percentile(samples, 0.95)
    results["hostile_write_max_ms"] = max(writes) * 1000
    results["hostile_write_p50_ms"] = _percentile(writes, 0.5)
    print(json.dumps({name: round(value, 1) for name, value in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
