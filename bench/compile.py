"""What a fresh install waits for: compiling the engine's kernels, and the first queries.

    python bench/compile.py            # both tables
    python bench/compile.py kernels    # seconds per kernel from an empty Numba cache
    python bench/compile.py serve      # `evalql serve` from an empty cache: time to each answer

Every run uses a new, empty NUMBA_CACHE_DIR, as a fresh install has.

The first table compiles every warm group (``evalql.engine.warm``) in a child
process and lists each kernel's own compile time (time spent in kernels it
calls is theirs), then each group's and the total.

The second starts ``evalql serve`` on the demo store and, at once, sends one
query of each kind a front-end sends, one after another, timing each from the
launch of the server and from its own first use: ``/healthz``, the catalog, the metrics page, a
101-point curve, a drill-down page, a breakdown, a filtered page, a multilabel
page, compare and ranking.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALQL = [sys.executable, "-m", "evalql.api.cli"]

_PROFILE = r"""
import json, sys, time
from collections import defaultdict
import numba.core.event as ev
from evalql.engine.warm import GROUPS

own, calls, groups = defaultdict(float), defaultdict(int), {}
for name, warm in GROUPS.items():
    started = time.perf_counter()
    with ev.install_recorder("numba:compile") as rec:
        warm()
    groups[name] = time.perf_counter() - started
    stack = []
    for ts, event in rec.buffer:
        f = event.data["dispatcher"].py_func
        key = f"{f.__module__.removeprefix('evalql.engine.')}.{f.__name__}"
        if event.is_start:
            stack.append([key, ts, 0.0])
        else:
            key, start, inner = stack.pop()
            own[key] += ts - start - inner
            calls[key] += 1
            if stack:
                stack[-1][2] += ts - start
json.dump({"groups": groups, "own": own, "calls": calls}, sys.stdout)
"""


def kernels_table() -> None:
    """Compile every group from an empty cache; print seconds per kernel and per group."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _PROFILE], env=env, check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        wall = time.perf_counter() - started
    result = json.loads(out)
    ours = {k: v for k, v in result["own"].items() if not k.startswith("numba.")}
    library = sum(v for k, v in result["own"].items() if k.startswith("numba."))
    print("| kernel | compiles | own seconds |")
    print("|---|---|---|")
    for key, seconds in sorted(ours.items(), key=lambda kv: -kv[1]):
        print(f"| {key} | {result['calls'][key]} | {seconds:.2f} |")
    print(f"| (NumPy and builtins Numba compiles for them) | | {library:.2f} |")
    print()
    print("| group | seconds |")
    print("|---|---|")
    for name, seconds in result["groups"].items():
        print(f"| {name} | {seconds:.1f} |")
    total = sum(result["groups"].values())
    print(f"| **all kernels** | **{total:.1f}** |")
    print(f"\nchild process wall time, imports included: {wall:.1f} s; "
          f"{len(ours)} kernels, {sum(result['calls'][k] for k in ours)} compiles")


QUERIES = {
    "catalog": '{ models { name runs { name splits { name rowCount } } } }',
    "metrics page": """{ model(name: "support-intent") { run(name: "v2") { split(name: "validation") {
        metrics(threshold: 0.5) { total predicted correct accuracy precision recall f1
          confusionMatrix { labels counts } perLabel { label precision recall f1 support } } } } } }""",
    "curve (101 points)": """{ model(name: "support-intent") { run(name: "v2") { split(name: "validation") {
        metrics { curve(points: 101) { threshold precision recall } } } } } }""",
    "drill-down page": """{ model(name: "support-intent") { run(name: "v1") { split(name: "validation") {
        metrics { rows(actual: "Resolved", predicted: "Partially Resolved", first: 20) {
          totalCount nodes { id confidence } } } } } } }""",
    "breakdown": """{ model(name: "support-intent") { run(name: "v1") { split(name: "validation") {
        metrics { breakdown(column: "created_at", bins: 13) { key count metrics { accuracy } } } } } } }""",
    "filtered page": """{ model(name: "support-intent") { run(name: "v1") { split(name: "training") {
        metrics(threshold: 0.3, where: [{column: "channel", in: ["email"]}]) {
          accuracy f1 confusionMatrix { counts } } } } } }""",
    "multilabel page": """{ model(name: "support-tags") { run(name: "v2") { split(name: "validation") {
        metrics(threshold: 0.5) { hammingScore subsetAccuracy f1 perLabel { label f1 } } } } } }""",
    "compare": """{ compare(baseline: {model: "support-intent", run: "v1", split: "validation"},
        candidate: {model: "support-intent", run: "v2", split: "validation"}, threshold: 0.5) {
        fixed regressed rows(change: REGRESSED, first: 5) { totalCount } } }""",
    "ranking": """{ model(name: "support-intent") { run(name: "v2") { split(name: "validation") {
        metrics { meanAveragePrecision topKAccuracy(k: 2) label(name: "Resolved") { rocAuc } } } } } }""",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(url, json.dumps({"query": query}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def serve_tables() -> None:
    """`evalql serve` from an empty Numba cache, then again with the cache it filled."""
    with tempfile.TemporaryDirectory() as tmp:
        store, cache = Path(tmp) / "store", Path(tmp) / "numba"
        subprocess.run([*EVALQL, "demo", "--data", str(store)], check=True, capture_output=True)
        print("### empty Numba cache (a fresh install)\n")
        serve_table(store, cache)
        print("\n### warm Numba cache (a restart)\n")
        serve_table(store, cache)


def serve_table(store: Path, cache: Path) -> None:
    """Launch `evalql serve`; time each first answer from launch and from its use."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    launched = time.perf_counter()
    server = subprocess.Popen([*EVALQL, "serve", "--data", str(store), "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(server.stderr), daemon=True).start()
    try:
        healthz = None
        while healthz is None:
            if server.poll() is not None:
                raise SystemExit("evalql serve ended:\n" + "".join(log))
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                    healthz = json.loads(r.read())
            except OSError:
                time.sleep(0.05)
        times = {"/healthz": (time.perf_counter() - launched, 0.0)}
        errors: dict[str, object] = {}
        # As a user meets it: the page first, at once, then each other
        # kind of query in turn, each timed from its own first use.
        for name, query in QUERIES.items():
            sent = time.perf_counter()
            body = _post(base + "/graphql", query)
            answered = time.perf_counter()
            times[name] = (answered - launched, answered - sent)
            if body.get("errors"):
                errors[name] = body["errors"]
        all_ready = None
        while all_ready is None and time.perf_counter() - launched < 900:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                state = json.loads(r.read())["kernels"]
            if state["ready"] == state["total"]:
                all_ready = time.perf_counter() - launched
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"/healthz at first answer: {healthz}")
    print("| first answer of | seconds after launch | seconds after it was sent |")
    print("|---|---|---|")
    for name, (since_launch, waited) in times.items():
        print(f"| {name} | {since_launch:.1f} | {waited:.1f} |")
    print(f"| every kernel ready | {all_ready:.1f} |" if all_ready else "| every kernel ready | >900 |")
    if errors:
        print("errors:", errors)
    print("\nserver log:\n" + "".join(line for line in log if "engine kernels" in line))


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    if which in ("kernels", "both"):
        kernels_table()
    if which in ("serve", "both"):
        serve_tables()
