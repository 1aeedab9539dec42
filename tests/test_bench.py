"""The benchmark harness runs end to end at a tiny scale, so it cannot rot. It times nothing here:
the numbers are `make bench`'s, and bench/README.md holds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import main

pytestmark = pytest.mark.server


def test_the_benchmarks_run_and_write_their_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert main(["--scale", "tiny", "--db", "sqlite", "--only", "http,queue,exports", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    names = {r["name"] for r in report["results"]}
    assert any(n.startswith("intake api, 64 clients") for n in names)
    assert any(n.startswith("search (") for n in names)
    assert any(n.startswith("desk home (") for n in names)
    assert any(n.startswith("export csaf-vex") for n in names)
    assert all(r["value"] > 0 for r in report["results"] if not r["name"].startswith("is "))
    assert "ratio" in capsys.readouterr().out


def test_the_flood_benchmark_accounts_for_every_report_and_finds_the_real_one(tmp_path: Path) -> None:
    out = tmp_path / "flood.json"
    assert main(["--scale", "tiny", "--db", "sqlite", "--only", "flood", "--out", str(out)]) == 0
    results = {
        r["name"].split(":")[1].split(",")[0].strip(): r for r in json.loads(out.read_text())["results"]
    }
    accounted = next(r for name, r in results.items() if name.startswith("200 junk"))
    assert accounted["details"]["lost"] == 0
    assert accounted["details"]["junk_in_database"] == accounted["details"]["junk_stored"]
    assert accounted["details"]["real_on_first_page_by_evidence"] == 1
    assert results["real report's acknowledgement"]["value"] > 0  # it arrived at the relay
