"""What every benchmark shares: the running server, timing helpers, and one result row."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pyotp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    db: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""
    details: dict[str, float] | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Server:
    db: str
    url: str
    smtp_port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    admin_email: str
    admin_password: str
    has_key: bool

    def wait_until_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    socket.create_connection(("127.0.0.1", self.smtp_port), timeout=2).close()
                    return
            time.sleep(0.3)
        raise RuntimeError("the server did not come up")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def python(self, *args: str) -> str:
        """Run a bench module in the server's environment (its database, its keys)."""
        done = subprocess.run(
            [sys.executable, "-m", *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def web_rss_peak_mb(self) -> float:
        """The highest peak resident memory (VmHWM) of any process in the server's tree, in MB."""
        peak = 0
        for pid in _tree(self.process.pid):
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                found = re.search(r"VmHWM:\s+(\d+) kB", status)
                if found and "gunicorn" in Path(f"/proc/{pid}/cmdline").read_text():
                    peak = max(peak, int(found.group(1)))
        return peak / 1024


def _tree(root: int) -> list[int]:
    pids, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            pids += [int(c) for c in children]
            frontier += [int(c) for c in children]
    return pids


class Session:
    """A signed-in browser: cookies and CSRF, enough to read the desk's pages."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.server.url + path, timeout=60) as response:
            return response.status, response.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> int:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        data = {"csrfmiddlewaretoken": token.group(1) if token else "", **fields}
        form_token = re.search(r'name="form_token" value="([^"]+)"', page)
        if form_token:
            data["form_token"] = form_token.group(1)
        request = urllib.request.Request(
            self.server.url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.server.url + path},
        )
        with self.opener.open(request, timeout=60) as response:
            return int(response.status)

    def sign_in(self) -> None:
        """Password, then the authenticator the first sign-in sets up: the desk asks for both."""
        self.post(
            "/accounts/login/", {"username": self.server.admin_email, "password": self.server.admin_password}
        )
        _, setup = self.get("/accounts/login/setup/")
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup)
        if secret is None:
            raise RuntimeError("the sign-in did not offer to set up the authenticator")
        self.post("/accounts/login/setup/", {"code": pyotp.TOTP(secret.group(1)).now()})
        _, desk = self.get("/desk/")
        if "<h1>My work</h1>" not in desk:
            raise RuntimeError("signing in did not reach the desk")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def load(call: Callable[[int], float], total: int, clients: int) -> tuple[float, list[float]]:
    """``total`` calls over ``clients`` threads: throughput (per second) and every latency (seconds)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(call, range(total)))
    return total / (time.perf_counter() - started), latencies


def ms(seconds: float) -> float:
    return seconds * 1000


def median(samples: list[float]) -> float:
    return statistics.median(samples)
