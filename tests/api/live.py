"""``evalql serve`` as a user starts it, for tests that need a real server:
a child process on a free loopback port, its log in a file, always stopped
(by its PID) when the block ends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# A first start may compile kernels; a warm cache answers /healthz in seconds.
START_WITHIN = 120.0


@dataclass(frozen=True)
class Live:
    """A running server: where to reach it, and its log (stdout and stderr)."""

    base: str
    log: Path
    process: subprocess.Popen[bytes]

    def healthz(self) -> tuple[int, dict]:
        """``/healthz``'s status and body."""
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(store: Path, log: Path, *options: str) -> Iterator[Live]:
    """``evalql serve --data store *options`` on 127.0.0.1, once /healthz says ok."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "evalql.api.cli", "serve", "--data", str(store),
             "--host", "127.0.0.1", "--port", str(port), *options],
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        )
    live = Live(f"http://127.0.0.1:{port}", log, process)
    try:
        _wait_ok(live)
        yield live
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_ok(live: Live) -> None:
    deadline = time.monotonic() + START_WITHIN
    while True:
        if live.process.poll() is not None:
            raise AssertionError(f"evalql serve exited ({live.process.returncode}):\n"
                                 f"{live.log_text()[-3000:]}")
        try:
            status, body = live.healthz()
            if status == 200 and body.get("status") == "ok":
                return
        except (OSError, ValueError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"no /healthz within {START_WITHIN:.0f} s:\n"
                                 f"{live.log_text()[-3000:]}")
        time.sleep(0.1)
