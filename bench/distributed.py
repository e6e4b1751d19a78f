"""Local engine against a Dask LocalCluster on one large split (issue 16).

    python bench/distributed.py [--rows 10000000] [--labels 100] [--fragment-rows 1000000]
                                [--workers 2] [--repeats 5]

The split is the reference dataset of bench/common.py (generated and ingested
once into bench/data/). Three parts:

1. Per fragment, in this process: loading one fragment (read, copy, index)
   and each partial result the Dask backend asks of it (api/backends/fragments.py),
   as rows per second on one core.
2. Through GraphQL in this process (Starlette's TestClient), first in
   process, then with the Dask backend installed (``--workers`` worker
   processes, one thread each, on loopback): the first query (load), a
   metrics page at a new threshold, a new row filter, and a drill-down page
   and the next one by its cursor; the median of ``--repeats`` and the bytes
   of partial results each query moves. Every distributed answer is checked
   against the local one.
3. The load average beside the figures: other work shares the cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# This file's name is dask's package's: with bench/ first on the path (as a
# script's folder is), `import distributed` would import this file. So bench/
# goes last, where `import common` still finds bench/common.py.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

from common import MODEL, RUN, SPLIT, Dataset, prepare  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from evalql.api import backends, split_cache  # noqa: E402
from evalql.api.app import create_app  # noqa: E402
from evalql.api.backends import fragments  # noqa: E402
from evalql.engine.curves import grid  # noqa: E402
from evalql.engine.index import ThresholdIndex  # noqa: E402
from evalql.engine.select import NO_CURSOR, Predicate  # noqa: E402
from evalql.storage.filters import Condition  # noqa: E402

SPLIT_VARS = {"m": MODEL, "r": RUN, "s": SPLIT}
PAGE = """query($m: String!, $r: String!, $s: String!, $t: Float!, $where: [RowFilter!]) {
  model(name: $m) { run(name: $r) { split(name: $s) { metrics(threshold: $t, where: $where) {
    total predicted correct coverage accuracy selectiveAccuracy precision recall f1
    confusionMatrix { counts } perLabel { label precision recall tp fp fn tn }
    confidenceHistogram(bins: 10) { count correct } } } } } }"""
CALIBRATION = """query($m: String!, $r: String!, $s: String!, $t: Float!) {
  model(name: $m) { run(name: $r) { split(name: $s) { metrics(threshold: $t) {
    expectedCalibrationError calibrationCurve { meanConfidence accuracy count } } } } } }"""
# The split against itself: the same ids in the same order, as two runs of one test set.
COMPARE = """query($m: String!, $r: String!, $s: String!, $t: Float!) {
  compare(baseline: {model: $m, run: $r, split: $s}, candidate: {model: $m, run: $r, split: $s},
          threshold: $t) { fixed regressed mcnemarPValue } }"""
ROWS = """query($m: String!, $r: String!, $s: String!, $t: Float!, $a: String, $p: String,
               $after: String) {
  model(name: $m) { run(name: $r) { split(name: $s) { metrics(threshold: $t) {
    rows(actual: $a, predicted: $p, first: 50, after: $after) {
      totalCount edges { node { id confidence } } pageInfo { endCursor hasNextPage } } } } } } }"""


def size(n: float) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 10_240 else f"{n:,.0f} B"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - started, out


def median_time(fn: Any, *args: Any, repeats: int = 5) -> float:
    return statistics.median(timed(fn, *args)[0] for _ in range(repeats))


def per_fragment(ds: Dataset, fragment_rows: int) -> list[tuple[str, float, float]]:
    """(what, seconds, rows per second) on one fragment, in this process."""
    from evalql.storage.catalog import Catalog

    catalog = Catalog(ds.store)
    info = catalog.split(MODEL, RUN, SPLIT)
    model = catalog.model(MODEL)
    assert info is not None and model is not None
    stop = min(fragment_rows, info.row_count)
    # Numba loads the index's kernels from its cache on first use: not the load's time.
    fragments.load_fragment(str(ds.store.resolve()), info, model.labels, 0, min(1000, stop))
    seconds, fragment = timed(fragments.load_fragment, str(ds.store.resolve()), info,
                              model.labels, 0, stop)
    k = len(model.labels)
    email = (Condition("channel", isin=("email",)),)
    thresholds = [np.float32(0.5)]
    cell = Predicate(np.arange(k + 1) == 0, np.arange(k + 1) == 1)
    fragment.mask(email)  # a filter's mask is kept per fragment; timed once below
    rows: list[tuple[str, float, float]] = [("load (read, copy, index)", seconds, stop / seconds)]
    c = fragment.columns
    build = median_time(ThresholdIndex.build, c.actual, c.predicted, c.confidence, k, repeats=3)
    rows.append(("of which the threshold index", build, stop / build))
    new_mask = median_time(lambda: fragments.Fragment(  # a fresh fragment: no mask kept
        0, k, fragment.columns, fragment.metadata, None).mask(email))
    jobs = {
        "confusion counts, index": (fragments.confusion_part, fragment, (), thresholds),
        "confusion counts, filter (scan)": (fragments.confusion_part, fragment, email,
                                            thresholds),
        "curve of 101 points, index": (fragments.curve_part, fragment, (), grid(101)),
        "curve of 101 points, filter (scan)": (fragments.curve_part, fragment, email, grid(101)),
        "histogram, index": (fragments.histogram_part, fragment, (), np.arange(11) / 10,
                             np.ones(k + 1, dtype=bool)),
        "page of 50, index walk": (fragments.select_part, fragment, (), 0.5, cell, True,
                                   NO_CURSOR, 50),
        "page of 50, filter (scan)": (fragments.select_part, fragment, email, 0.5, cell, True,
                                      NO_CURSOR, 50),
        "reliability diagram, 15 bins (a scan)": (fragments.reliability_part, fragment, (), 15,
                                                   0.5, None),
        "a compare's verdicts (a scan)": (fragments.verdicts_part, fragment, (), 0.5, None),
        "a compare's ids digest (read + hash)": (fragments.ids_digest_part,
                                                 str(ds.store.resolve()), info, 0, stop),
    }
    rows.append(("a new filter's mask", new_mask, stop / new_mask))
    for name, (fn, *args) in jobs.items():
        fn(*args)  # compiled or loaded from Numba's cache first
        seconds = median_time(fn, *args)
        rows.append((name, seconds, stop / seconds))
    verdicts = fragments.verdicts_part(fragment, (), 0.5, None)
    seconds = median_time(fragments.changes_part, verdicts, verdicts)
    rows.append(("a compare's fixed and regressed, a fragment pair", seconds, stop / seconds))
    return rows


def planned_fragment(rows: int, k: int) -> list[tuple[str, str]]:
    """(what, figure) for a synthetic fragment of ``rows`` rows over ``k`` labels
    (Zipf-distributed labels, 80% right, confidences of 3 decimals), in this
    process: what docs/scaling.md's plan for 1,000 labels reads."""
    import pyarrow as pa
    from common import zipf_weights

    from evalql.storage.datasets import MulticlassColumns

    rng = np.random.default_rng(3)
    actual = rng.choice(k, rows, p=zipf_weights(k)).astype(np.int32)
    predicted = np.where(rng.random(rows) < 0.8, actual,
                         rng.choice(k, rows, p=zipf_weights(k))).astype(np.int32)
    confidence = np.round(rng.random(rows), 3).astype(np.float32)
    columns = MulticlassColumns(actual, predicted, confidence)
    metadata = pa.table({"channel": rng.choice(["email", "chat"], rows)})
    build, index = timed(ThresholdIndex.build, actual, predicted, confidence, k)
    build = min(build, median_time(ThresholdIndex.build, actual, predicted, confidence, k,
                                   repeats=2))  # the first includes loading kernels
    fragment = fragments.Fragment(0, k, columns, metadata, index)
    email = (Condition("channel", isin=("email",)),)
    t = [np.float32(0.5)]
    counts = fragments.confusion_part(fragment, (), t)
    fragments.confusion_part(fragment, email, t)
    fragments.curve_part(fragment, (), grid(101))
    lookup = median_time(fragments.confusion_part, fragment, (), t, repeats=3)
    scan = median_time(fragments.confusion_part, fragment, email, t, repeats=3)
    curve = median_time(fragments.curve_part, fragment, (), grid(101), repeats=3)
    nonzero = int(np.count_nonzero(counts))
    return [
        ("threshold index build", f"{build * 1e3:.0f} ms ({rows / build / 1e6:.1f} M rows/s)"),
        ("index bytes (order + confidences + cell offsets)",
         f"{index.nbytes / 2**20:.1f} MiB, of which offsets {index.offsets.nbytes / 2**20:.1f} MiB"),
        ("confusion counts at a threshold, index ((K+1)^2 binary searches)", f"{lookup * 1e3:.1f} ms"),
        ("confusion counts at a threshold, filter (scan)",
         f"{scan * 1e3:.1f} ms ({rows / scan / 1e6:.0f} M rows/s)"),
        ("curve of 101 points, index", f"{curve * 1e3:.0f} ms"),
        ("partial confusion counts, dense", f"{counts.nbytes / 2**20:.1f} MiB"),
        ("non-zero cells", f"{nonzero:,} ({nonzero * 12 / 2**10:.0f} KiB as index + count)"),
    ]


class Queries:
    """The GraphQL queries of the comparison, fresh arguments each time."""

    def __init__(self, client: TestClient, labels: tuple[str, ...]) -> None:
        self.client = client
        self.labels = labels

    def post(self, query: str, **variables: Any) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = self.client.post("/graphql", json={
            "query": query, "variables": {**SPLIT_VARS, **variables}})
        seconds = time.perf_counter() - started
        body = response.json()
        if "errors" in body:
            raise RuntimeError(body["errors"])
        return seconds, body["data"]

    def page(self, t: float) -> tuple[float, dict[str, Any]]:
        return self.post(PAGE, t=t, where=None)

    def new_filter(self, t: float, segment: int) -> tuple[float, dict[str, Any]]:
        where = [{"column": "segment", "in": [f"seg_{segment:02d}"]}]
        return self.post(PAGE, t=t, where=where)

    def calibration(self, t: float) -> tuple[float, dict[str, Any]]:
        return self.post(CALIBRATION, t=t)

    def compare(self, t: float) -> tuple[float, dict[str, Any]]:
        return self.post(COMPARE, t=t)

    def drill(self, t: float, pair: int) -> tuple[float, float, dict[str, Any]]:
        cell = {"a": self.labels[pair % 5], "p": self.labels[(pair + 1) % 5]}
        first, one = self.post(ROWS, t=t, after=None, **cell)
        cursor = one["model"]["run"]["split"]["metrics"]["rows"]["pageInfo"]["endCursor"]
        second, two = self.post(ROWS, t=t, after=cursor, **cell)
        return first, second, {"one": one, "two": two}


def measure(queries: Queries, repeats: int, backend: Any = None) -> dict[str, Any]:
    """Medians of each query kind, and the answers (to compare)."""
    out: dict[str, Any] = {"answers": []}

    def moved() -> int:
        return 0 if backend is None else backend.bytes_moved

    page, filtered, first_rows, next_rows, bytes_page, bytes_filter, bytes_rows = (
        [] for _ in range(7))
    calibration, compare, bytes_calibration, bytes_compare = ([] for _ in range(4))
    for i in range(repeats):
        t = 0.4 + 0.01 * i
        before = moved()
        seconds, answer = queries.page(t)
        page.append(seconds)
        bytes_page.append(moved() - before)
        before = moved()
        seconds, answer_filter = queries.new_filter(t, i)
        filtered.append(seconds)
        bytes_filter.append(moved() - before)
        before = moved()
        one, two, rows = queries.drill(t, i)
        first_rows.append(one)
        next_rows.append(two)
        bytes_rows.append((moved() - before) // 2)
        before = moved()
        seconds, answer_calibration = queries.calibration(t)
        calibration.append(seconds)
        bytes_calibration.append(moved() - before)
        before = moved()
        seconds, answer_compare = queries.compare(t)
        compare.append(seconds)
        bytes_compare.append(moved() - before)
        out["answers"].append((answer, answer_filter, rows, answer_calibration, answer_compare))
    out.update(page=statistics.median(page), filter=statistics.median(filtered),
               rows=statistics.median(first_rows), next=statistics.median(next_rows),
               bytes_page=statistics.median(bytes_page),
               bytes_filter=statistics.median(bytes_filter),
               bytes_rows=statistics.median(bytes_rows),
               calibration=statistics.median(calibration), compare=statistics.median(compare),
               bytes_calibration=statistics.median(bytes_calibration),
               bytes_compare=statistics.median(bytes_compare))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--fragment-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="4GiB")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--plan-labels", type=int, default=1_000,
                        help="labels of the synthetic fragment the scaling plan reads")
    parser.add_argument("--plan-rows", type=int, default=2_000_000)
    parser.add_argument("--plan-only", action="store_true",
                        help="only the synthetic fragment (no dataset, no cluster)")
    args = parser.parse_args()
    print(f"## A synthetic fragment: {args.plan_rows:,} rows x {args.plan_labels:,} labels "
          f"(one process; load average {load()})\n")
    print("| what | figure |\n| --- | --- |")
    for name, figure in planned_fragment(args.plan_rows, args.plan_labels):
        print(f"| {name} | {figure} |")
    print(f"\nload average {load()}\n")
    if args.plan_only:
        return 0
    ds = Dataset(args.rows, args.labels)
    prepare(ds)
    print(f"# {ds.title}: fragments of {args.fragment_rows:,} rows, {args.workers} workers "
          f"x 1 thread, {os.cpu_count()} cores; load average {load()}\n")

    print("## Per fragment (one core, this process)\n")
    print("| what | ms | M rows/s |\n| --- | ---: | ---: |")
    for name, seconds, rate in per_fragment(ds, args.fragment_rows):
        print(f"| {name} | {seconds * 1e3:.1f} | {rate / 1e6:.0f} |")
    print(f"\nload average {load()}\n")

    split_cache.MODE = "index"  # the settled server: the split's index is built
    with TestClient(create_app(ds.store)) as client:
        queries = Queries(client, ds.label_names)
        first, _ = queries.page(0.3)
        split_cache.MODE = "auto"  # a new filter scans at once, as serving does
        local = measure(queries, args.repeats)
        local["first"] = first
        local["load"] = load()

        from distributed import Client, LocalCluster

        from evalql.api.backends.dask import DaskBackend

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   memory_limit=args.worker_memory, silence_logs=40)
            dask = Client(cluster)
        try:
            backend = DaskBackend(dask, client.app.state.store, fragment_rows=args.fragment_rows,
                                  min_rows=0)
            backends.install(ds.store, backend)
            first, _ = queries.page(0.3)  # loads the fragments and their indexes
            remote = measure(queries, args.repeats, backend)
            remote["first"] = first
            remote["load"] = load()
            held = sum(dask.run(lambda dask_worker: sum(
                getattr(v, "nbytes", 0) for v in dask_worker.data.values())).values())
        finally:
            backends.uninstall(ds.store)
            dask.close()
            cluster.close()

    same = local["answers"] == remote["answers"]
    print("## Through GraphQL (medians)\n")
    print("| query | in process | Dask LocalCluster | moved per query (Dask) |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| first query (load the split / its fragments and indexes) | {local['first']:.2f} s "
          f"| {remote['first']:.2f} s | |")
    for name, key, moved in (("metrics page at a new threshold", "page", "bytes_page"),
                             ("the page under a new row filter", "filter", "bytes_filter"),
                             ("a drill-down page (first)", "rows", "bytes_rows"),
                             ("the next page by its cursor", "next", "bytes_rows"),
                             ("calibration (ECE and the diagram) at a new threshold",
                              "calibration", "bytes_calibration"),
                             ("compare of two runs over the same rows", "compare",
                              "bytes_compare")):
        print(f"| {name} | {local[key] * 1e3:.0f} ms | {remote[key] * 1e3:.0f} ms "
              f"| {size(remote[moved])} |")
    print(f"\nanswers equal: {same}; fragments held on the workers: {held / 2**20:.0f} MiB; "
          f"load average during the local part {local['load']}, the Dask part {remote['load']}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
