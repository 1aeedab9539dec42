"""Exports: advisories per second for each format, and "is version X of package Y affected"."""

from __future__ import annotations

import json

from bench.common import Result, Server


def run(server: Server, advisories: int) -> list[Result]:
    server.python("bench.seed", "advisories", "--count", str(advisories))
    measured = json.loads(server.python("bench.exports_inner", "--count", str(advisories)))
    results = [
        Result(
            server.db,
            f"export {name} ({advisories:,} advisories)",
            rate,
            "advisories/s",
            measured["baseline"],
            "",
        )
        for name, rate in measured["formats"].items()
    ]
    results.append(
        Result(
            server.db,
            f"is pkg:pypi/bench-7@1.7.2 affected? ({advisories:,} advisories)",
            measured["affected_query_ms"],
            "ms",
            None,
            "",
            {"matches": measured["matches"]},
        )
    )
    return results
