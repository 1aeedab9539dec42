"""The team's queue, a filtered queue, a case page with 500 messages, a search and the instance's
metrics, at scale."""

from __future__ import annotations

import json

from bench.common import Result, Server, Session, ms, percentile, timed
from bench.seed import SEARCH_WORD

ROUNDS = 20
EXPECTED = {"desk_home": "<h1>My work</h1>", "case_page": "<h1"}
TARGETS = {
    "desk_home": "< 200 ms",
    "queue_severity": "< 200 ms",
    "queue_overdue": "< 200 ms",
    "queue": "< 200 ms",
}


def run(server: Server, reports: int, messages: int) -> list[Result]:
    seeded = server.python("bench.seed", "reports", "--reports", str(reports), "--messages", str(messages))
    big = json.loads(seeded.strip().splitlines()[-1])
    # What the worker does every few minutes (the sweep asks for it): the metrics' snapshot.
    refresh = timed(lambda: server.python("vulndesk.cli", "metrics", "refresh"))
    browser = Session(server)
    browser.sign_in()
    pages = {
        "desk_home": "/desk/",
        "queue": "/desk/reports/",
        "queue_severity": "/desk/reports/?sort=severity",
        "queue_overdue": "/desk/reports/?due=overdue",
        "queue_filtered": "/desk/reports/?project=llm-d&state=accepted",
        "case_page": f"/desk/p/{big['big_case_project']}/reports/{big['big_case']}/",
        "search": "/desk/reports/?search=1",  # the words are posted once, kept in the session
        "metrics": "/desk/metrics/",  # every report of the last 12 months, over all projects
    }
    browser.post("/desk/reports/", {"q": SEARCH_WORD})
    orm = json.loads(
        server.python(
            "bench.seed",
            "orm",
            "--rounds",
            str(ROUNDS),
            "--big-case",
            str(big["big_case"]),
            "--big-case-project",
            big["big_case_project"],
        )
    )
    results = []
    for name, path in pages.items():
        # Warm the caches once, as a team member's second visit would be; and check it is the page.
        status, page = browser.get(path)
        if status != 200 or EXPECTED.get(name, "<h1>") not in page:
            raise RuntimeError(f"{path} did not answer its page ({status})")
        samples = [timed(lambda path=path: browser.get(path)) for _ in range(ROUNDS)]  # type: ignore[misc]
        results.append(
            Result(
                server.db,
                f"{name.replace('_', ' ')} ({reports:,} reports, {messages:,} messages), p95",
                ms(percentile(samples, 0.95)),
                "ms",
                ms(percentile(orm[name], 0.95)),
                TARGETS.get(name, "< 100 ms"),
                {"p50_ms": ms(percentile(samples, 0.5)), "orm_p50_ms": ms(percentile(orm[name], 0.5))},
            )
        )
    results.append(
        Result(
            server.db,
            f"metrics refresh by the worker ({reports:,} reports), once",
            ms(refresh),
            "ms",
            None,
            "",
        )
    )
    results.append(
        Result(
            server.db,
            "web server peak memory (largest process)",
            server.web_rss_peak_mb(),
            "MB",
            None,
            "< 300 MB",
        )
    )
    return results
