"""`vulndesk serve`: the web app, the worker and the SMTP intake as one process tree.

Each part is a child process; the parent forwards SIGINT/SIGTERM, waits for a clean stop, and if
any child dies on its own, stops the others and exits non-zero so a supervisor can restart it all.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

STOP_GRACE_SECONDS = 15


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    smtp_port: int | None
    smtp: bool
    worker: bool
    web_workers: int


def _unapplied_migrations() -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def child_commands(options: ServeOptions) -> dict[str, list[str]]:
    python = sys.executable
    commands = {
        "web": [
            python,
            "-m",
            "gunicorn",
            "vulndesk.wsgi:application",
            "--bind",
            f"{options.host}:{options.port}",
            "--workers",
            str(options.web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--graceful-timeout",
            "10",
            # No access log: tracking links carry their token in the path.
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ],
    }
    if options.worker:
        commands["worker"] = [python, "-m", "vulndesk.cli", "worker"]
    if options.smtp:
        port = options.smtp_port or settings.SMTP_INTAKE_PORT
        commands["smtp"] = [
            python,
            "-m",
            "vulndesk.cli",
            "smtpd",
            "--host",
            options.host,
            "--port",
            str(port),
        ]
    return commands


def serve(options: ServeOptions) -> int:
    if _unapplied_migrations():
        print("vulndesk: the database needs migrating first: vulndesk migrate", file=sys.stderr)  # noqa: T201
        return 2
    connection.close()
    children = {name: subprocess.Popen(argv) for name, argv in child_commands(options).items()}  # noqa: S603
    print(f"vulndesk serving on http://{options.host}:{options.port} ({', '.join(children)})", flush=True)  # noqa: T201
    stopping = False

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    failed = _watch(children, lambda: stopping)
    _stop_all(children)
    return 1 if failed else 0


def _watch(children: dict[str, subprocess.Popen[bytes]], stopping: Callable[[], bool]) -> str | None:
    """Wait until asked to stop (returns None) or a child exits on its own (returns its name)."""
    while not stopping():
        for name, child in children.items():
            if child.poll() is not None:
                print(f"vulndesk: {name} exited with status {child.returncode}; stopping", file=sys.stderr)  # noqa: T201
                return name
        time.sleep(0.2)
    return None


def _stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
