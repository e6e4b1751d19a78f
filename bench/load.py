"""The load bench of issue 12: many dashboard users on one server at once.

32 users (asyncio tasks, one keep-alive httpx connection each) query the
10M x 100 reference split through a real ``evalql serve`` for 60 s, each
sending its next request as soon as the last is answered (no think time, so
the server is saturated the whole time; ``--think`` adds pauses). Each
request is one of:

- **page**: the metrics page (summary, confusion matrix, per-label table)
  at a threshold drawn from 2,000 values, so most are new;
- **curve**: the 101-point threshold curve, macro or of one label;
- **drill-down**: the first page of 50 rows of a confusion cell, then the
  next page through its cursor (two requests, timed apart);
- **new filter**: the metrics page under a ``where`` filter never used
  before, mostly (``length >= n`` for one of 999 n, and one ``channel``),
  which evaluates a new mask and queues a background index build.

Meanwhile a process of its own asks ``/healthz`` every 100 ms, as a load
balancer would; it must keep getting answers within 50 ms whatever runs.
The report is a table per request kind: requests, throughput, p50, p99 and
errors, and /healthz's p50, p99 and worst.

    python bench/load.py                 # 10M x 100, 32 users, 60 s
    python bench/load.py --think 1       # each user pauses ~1 s between requests
    python bench/load.py --quick         # 1M rows, 8 users, 15 s: a smoke test
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import numpy as np
import orjson
from common import (
    CHANNELS,
    MODEL,
    PAGE_QUERY,
    RUN,
    SPLIT,
    Dataset,
    Server,
    fmt_seconds,
    log,
    markdown_table,
    prepare,
    print_machine,
    split_query,
    split_vars,
)

CURVE_QUERY = split_query(
    "Curve", "curve(label: $l, points: 101) { threshold coverage accuracy precision recall f1 }",
    ", $l: String",
)
ROWS_QUERY = split_query(
    "Rows",
    "rows(actual: $a, predicted: $b, first: 50, after: $after) "
    "{ totalCount nodes { id confidence } pageInfo { hasNextPage endCursor } }",
    ", $a: String, $b: String, $after: String",
)
# Shares of the requests, as a team of dashboard users might make them.
MIX = {"page": 0.40, "curve": 0.20, "drill-down": 0.25, "new filter": 0.15}
HEALTHZ_EVERY = 0.1
HEALTHZ_TARGET = 0.050


@dataclass
class Tally:
    """Latencies (seconds) and errors of one kind of request."""

    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.seconds, q)) if self.seconds else None


class User:
    """One dashboard user: a connection of its own and a random walk of requests."""

    def __init__(self, number: int, base: str, labels: tuple[str, ...], tallies: dict[str, Tally],
                 seed: int, think: float = 0.0) -> None:
        self.number = number
        self.think = think
        self.client = httpx.AsyncClient(base_url=base, timeout=120.0)
        self.labels = labels
        self.tallies = tallies
        self.random = random.Random(seed * 1000 + number)

    async def post(self, kind: str, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """Send one query; its latency and any error go to the kind's tally."""
        started = time.perf_counter()
        try:
            response = await self.client.post(
                "/graphql", content=orjson.dumps({"query": query, "variables": variables}),
                headers={"content-type": "application/json"})
            body = orjson.loads(response.content)  # ~10x the stdlib: the client stays light
        except (httpx.HTTPError, orjson.JSONDecodeError) as error:
            self.tallies[kind].errors.append(f"{type(error).__name__}: {error}")
            return None
        self.tallies[kind].seconds.append(time.perf_counter() - started)
        if response.status_code != 200 or body.get("errors"):
            message = (body.get("errors") or [{}])[0].get("message", "")
            self.tallies[kind].errors.append(f"HTTP {response.status_code}: {message}")
            return None
        return body["data"]

    def threshold(self) -> float:
        return self.random.randrange(2000) / 2000

    async def page(self) -> None:
        await self.post("page", PAGE_QUERY, split_vars(self.threshold()))

    async def curve(self) -> None:
        label = self.random.choice([None, *self.labels[:20]])
        await self.post("curve", CURVE_QUERY, split_vars(0.0, l=label))

    async def drill_down(self) -> None:
        # Frequent labels, so cells hold rows; a cell is (actual, predicted).
        actual, predicted = self.random.choice(self.labels[:10]), self.random.choice(self.labels[:10])
        cell = {"a": actual, "b": predicted}
        t = self.threshold() / 2
        data = await self.post("drill-down", ROWS_QUERY, split_vars(t, after=None, **cell))
        rows = None if data is None else data["model"]["run"]["split"]["metrics"]["rows"]
        if rows and rows["pageInfo"]["hasNextPage"]:
            after = rows["pageInfo"]["endCursor"]
            await self.post("drill-down", ROWS_QUERY, split_vars(t, after=after, **cell))

    async def new_filter(self) -> None:
        where = [{"column": "length", "gte": self.random.randrange(1, 1000)},
                 {"column": "channel", "in": [self.random.choice(CHANNELS)]}]
        await self.post("new filter", PAGE_QUERY, split_vars(self.threshold(), where=where))

    async def run(self, until: float) -> None:
        kinds: dict[str, Callable[[], Awaitable[None]]] = {
            "page": self.page, "curve": self.curve, "drill-down": self.drill_down,
            "new filter": self.new_filter,
        }
        names, weights = list(MIX), list(MIX.values())
        try:
            while time.perf_counter() < until:
                await kinds[self.random.choices(names, weights)[0]]()
                if self.think:  # a person reading the answer: exponential, mean `think`
                    await asyncio.sleep(self.random.expovariate(1 / self.think))
        finally:
            await self.client.aclose()


def probe_healthz(port: int, seconds: float) -> tuple[list[float], list[str]]:
    """``/healthz`` every 100 ms for ``seconds``, on a keep-alive connection:
    (latencies, errors). Runs in a process of its own, so the users' JSON
    decoding in this one never delays it: what it measures is the server."""
    latencies: list[float] = []
    errors: list[str] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                errors.append(f"HTTP {response.status}: {body[:200]!r}")
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{type(error).__name__}: {error}")
            conn.close()
        time.sleep(max(0.0, HEALTHZ_EVERY - (time.perf_counter() - started)))
    conn.close()
    return latencies, errors


async def load(port: int, labels: tuple[str, ...], users: int, seconds: float, seed: int,
               think: float = 0.0) -> tuple[dict[str, Tally], Tally, float]:
    """Run ``users`` users for ``seconds``; (tallies by kind, /healthz, wall seconds)."""
    tallies = {kind: Tally() for kind in MIX}
    base = f"http://127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as prober:
        # Started (and its interpreter up) before the users, so it covers their whole run.
        await loop.run_in_executor(prober, time.sleep, 0)
        started = time.perf_counter()
        until = started + seconds
        probed = loop.run_in_executor(prober, probe_healthz, port, seconds)
        crowd = [User(i, base, labels, tallies, seed, think).run(until) for i in range(users)]
        await asyncio.gather(*crowd)
        wall = time.perf_counter() - started
        latencies, errors = await probed
    return tallies, Tally(latencies, errors), wall


def warm_up(server: Server, labels: tuple[str, ...]) -> None:
    """Wait for every kernel, and build the split's threshold index, before timing."""
    assert server.client is not None
    while True:
        status, raw = server.client.get("/healthz")
        kernels = json.loads(raw).get("kernels", {})
        if status == 200 and kernels.get("ready") == kernels.get("total"):
            break
        time.sleep(0.5)
    for t in (0.5, 0.25, 0.75):
        server.client.post(PAGE_QUERY, split_vars(t))
    server.client.post(CURVE_QUERY, split_vars(0.0, l=None))
    server.client.post(ROWS_QUERY, split_vars(0.3, a=labels[0], b=labels[1], after=None))
    time.sleep(3)  # the unfiltered threshold index builds in the background (~1 s)
    server.client.post(PAGE_QUERY, split_vars(0.5))


def report(tallies: dict[str, Tally], health: Tally, wall: float, users: int) -> str:
    rows = []
    every = Tally()
    for kind, tally in tallies.items():
        every.seconds += tally.seconds
        every.errors += tally.errors
        rows.append(_row(kind, tally, wall))
    rows.append(_row("all", every, wall))
    rows.append([
        "`/healthz` (every 100 ms)", f"{len(health.seconds):,}", "—",
        fmt_seconds(health.percentile(50)), fmt_seconds(health.percentile(99)),
        str(len(health.errors)),
    ])
    table = markdown_table(["requests", "answered", "per second", "p50", "p99", "errors"], rows)
    worst = max(health.seconds, default=0.0)
    verdict = "✓" if (health.percentile(99) or 0) <= HEALTHZ_TARGET else "✗"
    lines = [table, "", f"{users} users for {wall:.0f} s; /healthz worst {fmt_seconds(worst)}, "
             f"p99 {fmt_seconds(health.percentile(99))} (target ≤ 50 ms {verdict})"]
    for kind, tally in [*tallies.items(), ("/healthz", health)]:
        for message in sorted(set(tally.errors))[:3]:
            lines.append(f"- {kind} error: {message}")
    return "\n".join(lines)


def _row(kind: str, tally: Tally, wall: float) -> list[str]:
    return [kind, f"{len(tally.seconds):,}", f"{len(tally.seconds) / wall:.1f}",
            fmt_seconds(tally.percentile(50)), fmt_seconds(tally.percentile(99)),
            str(len(tally.errors))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M rows, 8 users, 15 s")
    parser.add_argument("--users", type=int, help="concurrent users (default 32)")
    parser.add_argument("--seconds", type=float, help="how long (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="the users' random walks")
    parser.add_argument("--only", choices=list(MIX), help="send one kind of request only")
    parser.add_argument("--think", type=float, default=0.0, metavar="SECONDS",
                        help="mean pause of a user between requests (default 0: saturate)")
    args = parser.parse_args()
    if args.only:
        MIX.update({kind: float(kind == args.only) for kind in MIX})
    ds = Dataset(1_000_000, 100) if args.quick else Dataset(10_000_000, 100)
    users = args.users or (8 if args.quick else 32)
    seconds = min(args.seconds or (15.0 if args.quick else 60.0), 60.0)
    print_machine()
    prepare(ds)
    with Server(ds.store) as server:
        log(f"warming up {ds.title} ({MODEL}/{RUN}/{SPLIT}) on port {server.port}")
        warm_up(server, ds.label_names)
        log(f"{users} users for {seconds:.0f} s")
        load_before = os.getloadavg()
        tallies, health, wall = asyncio.run(
            load(server.port, ds.label_names, users, seconds, args.seed, args.think))
        load_after = os.getloadavg()
        memory = server.memory()
    pause = f"{args.think:g} s mean think time" if args.think else "no think time"
    print(f"`python bench/load.py`: {ds.title}, {users} users, {pause}\n")
    print(report(tallies, health, wall, users))
    print(f"\nserver resident memory at the end: {memory['VmRSS'] / 1e9:.2f} GB "
          f"(peak {memory['VmHWM'] / 1e9:.2f} GB)")
    # Other work on the machine slows everything here: say how much there was.
    print(f"load average (1 min) {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the "
          f"end, on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
