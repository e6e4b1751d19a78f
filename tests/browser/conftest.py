"""A real `evalql serve` on loopback over a fresh demo store, for the browser tests.

The server runs as its own process, as a user starts it; the tests talk to it
over HTTP only (the browser, and urllib for the API's own answers).
"""

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
from pathlib import Path
from typing import Any

import pytest

# A fresh Numba cache compiles the engine's kernels on first use: the server
# answers /healthz at once, and the first queries wait for the compile.
START_WITHIN = 600.0

# Sent once before the browser starts, so every kernel the dashboard needs is
# compiled (or loaded from the cache) and no browser wait meets a compile.
WARM_UP = """{
  model(name: "support-intent") { run(name: "v1") { split(name: "validation") {
    metrics(threshold: 0.5) {
      accuracy f1 confusionMatrix { counts } perLabel { averagePrecision rocAuc tp }
      insights { kind } labelDistribution { actual }
      thresholdForPrecision(label: "Resolved", minPrecision: 0.9) { threshold }
      curve(points: 101) { precision } byLabel: curve(label: "Resolved", points: 101) { f1 }
      breakdown(column: "channel") { metrics { accuracy } }
      time: breakdown(column: "created_at", bins: 13) { metrics { accuracy } }
      rows(actual: "Resolved", predicted: null, first: 5) { totalCount nodes { id fields } }
      label(name: "Resolved") { rows(outcome: FP, first: 5) { totalCount } }
    }
    filtered: metrics(threshold: 0.5, where: [{column: "channel", in: ["email"]}]) { accuracy }
  } } }
  tags: model(name: "support-tags") { run(name: "v2") { split(name: "validation") {
    metrics(threshold: 0.5) { hammingScore confusionMatrix { counts } perLabel { averagePrecision } rows(first: 1) { totalCount } }
  } } }
  compare(baseline: {model: "support-intent", run: "v1", split: "validation"},
          candidate: {model: "support-intent", run: "v2", split: "validation"}, threshold: 0.5) {
    fixed rows(change: REGRESSED, first: 5) { totalCount }
  }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(base: str, query: str, variables: dict[str, Any] | None = None,
            timeout: float = 60.0) -> dict[str, Any]:
    """POST a query to the server, as any script would; returns the whole response body."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        base + "/graphql", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _log_tail(path: Path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `evalql serve --data <demo store>` on 127.0.0.1; stopped by its PID."""
    from evalql.storage.demo import build_demo

    root = tmp_path_factory.mktemp("dashboard")
    store = root / "store"
    build_demo(store)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "evalql.api.cli", "serve", "--data", str(store),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        )
    try:
        deadline = time.monotonic() + START_WITHIN
        while True:
            if process.poll() is not None:
                pytest.fail(f"evalql serve exited with {process.returncode}:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if json.loads(response.read()).get("status") == "ok":
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"evalql serve did not answer /healthz in {START_WITHIN:.0f} s:\n{_log_tail(log)}")
            time.sleep(0.2)
        warm = graphql(base, WARM_UP, timeout=START_WITHIN)
        assert "errors" not in warm, warm["errors"]
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
