"""Memory under many filters: does the server stay within its budget?

200 distinct ``where`` filters, each asked twice (a filter asked once keeps
nothing), on a 5M-row split, then the same on a second split, through the app in this process (Starlette's TestClient), so the
resident set read from /proc/self/status (VmRSS) is the server's. Prints the
resident set against the budget plus the mapped split files, and what the
cache holds by kind (``SplitStore.cached_bytes_by_kind``).

    python bench/memory.py [--memory 1GiB] [--rows 5000000] [--filters 200]

The splits are generated once into bench/data/memory/ (reused afterwards).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from evalql.api import split_cache
from evalql.api.app import create_app
from evalql.api.settings import ServeSettings, parse_memory

DATA = Path(__file__).resolve().parent / "data" / "memory"
LABELS = tuple(f"label{i:02d}" for i in range(20))
CHANNELS = ("email", "chat", "phone", "web")
QUERY = """query($where: [RowFilter!], $split: String!) { model(name: "mem") { run(name: "r") {
    split(name: $split) { metrics(threshold: 0.5, where: $where) { total accuracy } } } } }"""


def rss() -> int:
    """The resident set of this process in bytes (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def mib(n: float) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, len(LABELS), rows)
    predicted = np.where(rng.random(rows) < 0.8, actual, rng.integers(0, len(LABELS), rows))
    return pa.table({
        "id": pa.array(np.char.add("row", np.arange(rows).astype(str)).astype(object)),
        "actual": pa.DictionaryArray.from_arrays(actual.astype(np.int32), LABELS),
        "predicted": pa.DictionaryArray.from_arrays(predicted.astype(np.int32), LABELS),
        "confidence": rng.random(rows, dtype=np.float32),
        "length": rng.integers(0, 100_000, rows),
        "channel": pa.DictionaryArray.from_arrays(
            rng.integers(0, len(CHANNELS), rows).astype(np.int32), CHANNELS),
    })


def prepare(rows: int) -> None:
    from evalql.storage.catalog import Catalog
    from evalql.storage.ingest import IngestOptions, ingest_table

    catalog = Catalog(DATA) if DATA.exists() else None
    for seed, name in ((1, "s1"), (2, "s2")):
        found = catalog.split("mem", "r", name) if catalog else None
        if found is not None and found.row_count == rows:
            continue
        print(f"generating and ingesting {rows:,} rows as mem/r/{name}...", flush=True)
        ingest_table(DATA, table(rows, seed), "mem", "r", name,
                     IngestOptions(replace=found is not None), source="bench/memory.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", default="1GiB", help="the budget (as evalql serve --memory)")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--filters", type=int, default=200)
    args = parser.parse_args()
    budget = parse_memory(args.memory)
    prepare(args.rows)
    from starlette.testclient import TestClient

    mapped = sum(f.stat().st_size for f in (DATA / "splits").rglob("*") if f.is_file())
    start = rss()
    print(f"budget {mib(budget)}; split files {mib(mapped)}; resident at start {mib(start)}")
    app = create_app(DATA, settings=ServeSettings(allowed_hosts=("*",), memory=budget))
    peak = settled = 0
    with TestClient(app) as client:
        store = app.state.store
        for name in ("s1", "s2"):
            began = time.perf_counter()
            for i in range(args.filters):
                where = [{"column": "length", "gte": i * 97}, {"column": "length", "lt": 90_000}]
                # Twice: a filter asked for once keeps nothing (api/split_cache.py);
                # the second use keeps its mask and queues its index, which is
                # what fills the budget.
                for _ in range(2):
                    body = client.post("/graphql", json={
                        "query": QUERY, "variables": {"where": where, "split": name}}).json()
                    assert "errors" not in body, body
                    peak = max(peak, rss())
            took = time.perf_counter() - began
            time.sleep(2)  # let queued background builds finish or be skipped
            settled = max(settled, rss())
            kinds = {k: mib(v) for k, v in store.cached_bytes_by_kind().items() if v}
            print(f"after {args.filters} filters on {name} ({took:.1f} s): resident "
                  f"{mib(rss())} (peak {mib(peak)}); cached {mib(store.cached_bytes)} {kinds}")
        split_cache._executor.submit(lambda: None).result()  # queued builds end here
    limit = start + budget + mapped
    verdict = "within" if settled <= limit else "OVER"
    print(f"settled resident {mib(settled)} is {verdict} start + budget + mapped files "
          f"= {mib(limit)}; peak {mib(peak)} (the excess over settled is requests' and "
          "index builds' working memory, which the budget does not count)")
    return 0 if settled <= limit else 1


if __name__ == "__main__":
    sys.exit(main())
