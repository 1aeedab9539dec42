"""`make bench`: run vulndesk as `vulndesk serve` runs it, measure it beside a baseline, print a
table and write it as JSON. ``python -m bench.run --help`` lists the options."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import exports_bench, flood_bench, http_bench, queue_bench, smtp_bench
from bench.common import Result, Server, free_port

REPO = Path(__file__).resolve().parent.parent
SCALES = {
    # reports, messages, intake requests per level, SMTP messages per level, advisories
    "tiny": {"reports": 200, "messages": 1_000, "requests": 20, "mails": 4, "advisories": 50},
    "small": {"reports": 10_000, "messages": 100_000, "requests": 400, "mails": 32, "advisories": 2_000},
    "full": {"reports": 100_000, "messages": 1_000_000, "requests": 500, "mails": 48, "advisories": 10_000},
}
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Options:
    scale: str
    databases: list[str]
    only: list[str]
    out: Path


def _vulndesk() -> str:
    return str(Path(sys.executable).parent / "vulndesk")


@contextmanager
def _database(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    import psycopg  # noqa: PLC0415  # only a PostgreSQL run needs it

    name = f"vulndesk_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_server(
    kind: str, extra_env: dict[str, str] | None = None, *, raised_limits: bool = True
) -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="vulndesk-bench-"))
    try:
        with _database(kind) as database_url:
            env = {
                **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VULNDESK_SECRET_KEY")},
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "PYTHONPATH": str(REPO),
                "VULNDESK_DATA_DIR": str(folder / "data"),
                # A benchmark sends thousands of reports from one address: the intake's hourly
                # limits are raised for the run (never in a deployment's defaults).
                "VULNDESK_INTAKE_PER_ADDRESS_PER_HOUR": "100000000",
                "VULNDESK_INTAKE_PER_SENDER_PER_HOUR": "100000000",
                **(extra_env or {}),
            }
            if not raised_limits:  # the flood measures the product's own limits
                del env["VULNDESK_INTAKE_PER_ADDRESS_PER_HOUR"], env["VULNDESK_INTAKE_PER_SENDER_PER_HOUR"]
            if database_url:
                env["DATABASE_URL"] = database_url
            port, smtp_port = free_port(), free_port()
            env["VULNDESK_BASE_URL"] = f"http://127.0.0.1:{port}"
            setup = subprocess.run(
                [_vulndesk(), "setup", "--examples", str(REPO / "examples" / "policies")],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            found = re.search(r"Created administrator (\S+) with password: (\S+)", setup.stdout)
            assert found, setup.stdout
            key = subprocess.run(
                [_vulndesk(), "key", "generate", "llm-d"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            log = (folder / "server.log").open("wb")
            process = subprocess.Popen(
                [_vulndesk(), "serve", "--port", str(port), "--smtp-port", str(smtp_port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            server = Server(
                kind,
                f"http://127.0.0.1:{port}",
                smtp_port,
                env,
                process,
                found.group(1),
                found.group(2),
                key.returncode == 0,
            )
            try:
                server.wait_until_up()
                yield server
            finally:
                server.stop()
                log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(options: Options) -> list[Result]:
    scale = SCALES[options.scale]
    results: list[Result] = []
    for kind in options.databases:
        with running_server(kind) as server:
            if "http" in options.only:
                results += http_bench.run(server, scale["requests"])
            if "smtp" in options.only:
                results += smtp_bench.run(server, scale["mails"])
            if "queue" in options.only:
                results += queue_bench.run(server, scale["reports"], scale["messages"])
            if "exports" in options.only:
                results += exports_bench.run(server, scale["advisories"])
        if "flood" in options.only:
            results += _flood(kind, options.scale)
    return results


def _flood(kind: str, scale: str) -> list[Result]:
    """On a server of its own: the product's default limits, its mail going to the harness's relay."""
    sink = flood_bench.Sink()
    sink.controller.start()
    try:
        with running_server(kind, flood_bench.flood_env(sink), raised_limits=False) as server:
            return flood_bench.run(server, sink, scale)
    finally:
        sink.controller.stop()


def table(results: list[Result]) -> str:
    lines = [f"{'db':8} {'benchmark':44} {'value':>12} {'unit':10} {'baseline':>12} {'ratio':>7}  target"]
    for r in results:
        baseline = f"{r.baseline:12.2f}" if r.baseline is not None else " " * 12
        ratio = f"{r.ratio:7.2f}" if r.ratio is not None else " " * 7
        lines.append(f"{r.db:8} {r.name:44} {r.value:12.2f} {r.unit:10} {baseline} {ratio}  {r.target}")
    return "\n".join(lines)


def _quiet_smtp_log() -> None:
    # aiosmtpd logs every command at INFO; the baseline server runs in this process.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    _quiet_smtp_log()
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--scale", choices=list(SCALES), default="full")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--only",
        default="http,smtp,queue,exports",
        help="comma-separated benchmarks (add flood for issue 17's flood)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    args = parser.parse_args(argv)
    options = Options(
        scale=args.scale,
        databases=["sqlite", "postgres"] if args.db == "both" else [args.db],
        only=args.only.split(","),
        out=args.out,
    )
    started = time.monotonic()
    results = run(options)
    print(table(results))
    report = {
        "scale": options.scale,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "seconds": round(time.monotonic() - started, 1),
        "results": [r.as_json() for r in results],
    }
    options.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
