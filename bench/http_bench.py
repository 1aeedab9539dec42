"""Intake over HTTP: the API and the web form, beside a bare view inserting one row."""

from __future__ import annotations

import json
import urllib.request
import uuid

from bench.common import Result, Server, Session, load, ms, percentile, timed

LEVELS = (1, 16, 64)


def _post_json(server: Server, path: str, payload: dict[str, str]) -> None:
    request = urllib.request.Request(
        server.url + path, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # loopback
        assert response.status in (200, 201), response.status


def _api(server: Server) -> float:
    payload = {"title": f"bench {uuid.uuid4()}", "description": "A report body of a few words. " * 20}
    return timed(lambda: _post_json(server, "/api/v1/projects/llm-d/reports", payload))


def _baseline(server: Server) -> float:
    request = urllib.request.Request(server.url + "/bench/baseline/", data=b"x", method="POST")
    return timed(lambda: urllib.request.urlopen(request, timeout=120).close())


def _form(server: Server) -> float:
    browser = Session(server)
    fields = {"title": f"bench {uuid.uuid4()}", "description": "A report body. " * 20, "credit": "anonymous"}
    # Reading the form (for its CSRF and retry tokens) is part of a person's visit, not timed here.
    _, page = browser.get("/p/llm-d/report/")
    del page
    return timed(lambda: browser.post("/p/llm-d/report/", fields))


def run(server: Server, requests: int) -> list[Result]:
    results = []
    for clients in LEVELS:
        total = max(requests, clients)
        base_rate, base_lat = load(lambda _n: _baseline(server), total, clients)
        for name, call in (("api", _api), ("web form", _form)):
            rate, latencies = load(lambda _n, call=call: call(server), total, clients)  # type: ignore[misc]
            results.append(
                Result(
                    server.db,
                    f"intake {name}, {clients} clients",
                    rate,
                    "reports/s",
                    base_rate,
                    ">= 0.5 x baseline",
                    {
                        "p50_ms": ms(percentile(latencies, 0.5)),
                        "p99_ms": ms(percentile(latencies, 0.99)),
                        "baseline_p50_ms": ms(percentile(base_lat, 0.5)),
                        "baseline_p99_ms": ms(percentile(base_lat, 0.99)),
                    },
                )
            )
    return results
