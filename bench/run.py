"""The performance bench of issues 4 and 14: every scenario, one table.

For each reference dataset (10M x 100 by default; --labels-list 100,1000
adds 10M x 1000, --big 100M x 100) it generates and ingests the data once
(cached in bench/data/), measures cold start on fresh server processes, then
on one server times, through GraphQL over HTTP, each scenario twice: in the
first 10 s after the split is loaded (its indexes still building; the
scenarios take turns, one request each, until 10 s have passed) and settled
(afterwards, ``--repeats`` requests each):

- the metrics page (summary, matrix, per-label table) at a new threshold per
  request, without and with a row filter (the same filter each time), and
  with a row filter never asked before (``segment in`` a new random subset
  of its 50 values, each request);
- the 101-point threshold curve (macro, and of one label);
- drill-down: the first page and page 100 of one confusion cell;
- a breakdown over the 50-value ``segment`` column;
- the server's resident memory against the bytes of the split's columns.

scikit-learn runs on the same arrays in the same run where it has an
equivalent, and the bandwidth bound (12 bytes a row at the measured memory
bandwidth) shows what a full scan cannot beat. Fields the server does not have
yet are reported as "n/a (not implemented)". The 1,000-label dataset (and any
after the first) gets the metrics page scenarios only.

The machine goes beside the numbers: cores, CPU, memory, and the memory
bandwidth this run measured (a NumPy sum and a NumPy copy of 1 GB).
``--profile`` adds where a settled page spends its time (cProfile of the
page executed in process, bench/profile_page.py).

    python bench/run.py --quick          # 1M rows, few repeats: a smoke test
    python bench/run.py                  # 10M x 100, about 3-5 minutes
    python bench/run.py --profile        # and the page's profile
    python bench/run.py --labels-list 100,1000 --big   # and 10M x 1000, 100M x 100
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import (
    CHANNELS,
    EMAIL_FILTER,
    PAGE_QUERY,
    Arrays,
    Client,
    Dataset,
    GraphQLFailure,
    Server,
    Thresholds,
    Timing,
    abstained,
    copy_bandwidth,
    fmt_bytes,
    fmt_ratio,
    fmt_seconds,
    human_count,
    load_arrays,
    log,
    markdown_table,
    memory_bandwidth,
    metrics_of,
    prepare,
    print_machine,
    serving,
    sklearn_page,
    split_file,
    split_query,
    split_vars,
    time_runs,
    warm_sklearn,
)

BYTES_PER_ROW = 12  # actual int32 + predicted int32 + confidence float32
PAGE_SIZE = 50
DEEP_PAGE = 100
EMAIL = CHANNELS.index("email")

CURVE_FIELDS = "threshold coverage accuracy precision recall f1"
CURVE_QUERY = split_query("Curve", f"curve(points: 101) {{ {CURVE_FIELDS} }}")
LABEL_CURVE_QUERY = split_query(
    "LabelCurve", f"curve(label: $l, points: 101) {{ {CURVE_FIELDS} }}", ", $l: String"
)
ROWS_QUERY = split_query(
    "Rows",
    f"rows(actual: $a, predicted: $b, first: {PAGE_SIZE}, after: $after) "
    "{ totalCount nodes { id } pageInfo { hasNextPage endCursor } }",
    ", $a: String, $b: String, $after: String",
)
BREAKDOWN_QUERY = split_query(
    "Breakdown", 'breakdown(column: "segment") { key count metrics { accuracy } }'
)

# The page's ten summary numbers alone: what a gauge or a KPI strip asks for.
SUMMARY_QUERY = split_query(
    "Summary",
    "total labeled predicted correct coverage accuracy selectiveAccuracy "
    "precision recall f1",
)
FIRST_SECONDS = 10.0  # the window after loading reported apart from the settled state

TARGETS = {
    "page": "≤ 10 ms",
    "page_early": "≤ 15 ms",
    "summary": "≤ 3 ms",
    "page_filtered": "≤ 40 ms",
    "new_filter": "≤ 25 ms",
    "page_1000": "≤ 250 ms",
    "curve": "≤ 50 ms",
    "first_page": "≤ 20 ms",
    "deep_page": "≤ 50 ms",
    "cold": "≤ 2 s",
    "memory": "≤ 2× columns",
}


@dataclass
class Result:
    """One line of the table; ``evalql`` is a Timing, or a text such as "n/a"."""

    dataset: str
    scenario: str
    evalql: Timing | str
    phase: str = "settled"
    sklearn: Timing | float | None = None  # a float is an estimate, in seconds
    bound: float | None = None
    target: str = "—"
    note: str = ""

    def cells(self) -> list[str]:
        if isinstance(self.evalql, Timing):
            median, p95 = fmt_seconds(self.evalql.median), fmt_seconds(self.evalql.p95)
            ours = self.evalql.median
        else:
            median, p95, ours = self.evalql, "—", None
        if isinstance(self.sklearn, Timing):
            theirs: float | None = self.sklearn.median
            sk = fmt_seconds(theirs)
        elif isinstance(self.sklearn, float):
            theirs = self.sklearn
            sk = f"≈ {fmt_seconds(theirs)} (est.)"
        else:
            theirs, sk = None, "—"
        ratio = fmt_ratio(theirs / ours) if theirs is not None and ours else "—"
        return [self.dataset, self.scenario, self.phase, median, p95, sk, ratio,
                fmt_seconds(self.bound), self.target, self.note]


HEADERS = ["dataset", "scenario", "phase", "evalql median", "evalql p95", "scikit-learn median",
           "ratio (sklearn / evalql)", "bandwidth bound", "target", "notes"]


class Bench:
    """The scenarios of one dataset against one warm server."""

    def __init__(self, ds: Dataset, arrays: Arrays, client: Client, args: argparse.Namespace,
                 bandwidth: float) -> None:
        self.ds = ds
        self.arrays = arrays
        self.client = client
        self.args = args
        # Fine steps: the first seconds after loading can ask for thousands.
        self.thresholds = Thresholds(step=0.00002)
        self.bound = BYTES_PER_ROW * ds.rows / bandwidth
        self.results: list[Result] = []
        self.filters = NewFilters(ds)

    def result(self, scenario: str, evalql: Timing | str, **more: Any) -> Result:
        found = Result(self.ds.title, scenario, evalql, **more)
        self.results.append(found)
        return found

    def measure(self, name: str, query: str, variables: Callable[[int], dict[str, Any]]
                ) -> tuple[Timing | str, float | None]:
        """One warm-up request, then ``--repeats`` timed ones; ``variables(i)``
        gives each request's variables (i = -1 for the warm-up). Returns the
        timing and the warm-up's seconds, or a text saying why there is none."""
        log(f"  {name}")
        try:
            first, _ = self.client.post_timed(query, variables(-1))
        except GraphQLFailure as failure:
            if failure.not_implemented:
                return "n/a (not implemented)", None
            log(f"    error: {failure}")
            return f"error: {str(failure)[:60]}", None

        def run(i: int) -> float:
            return self.client.post_timed(query, variables(i))[0]

        return time_runs(run, self.args.repeats), first

    def fresh(self, where: list[dict[str, Any]] | None = None, **more: Any
              ) -> Callable[[int], dict[str, Any]]:
        """Variables at a threshold never used before, for every request."""
        return lambda _: split_vars(self.thresholds.next(), where, **more)

    def sklearn(self, work: Callable[[], object]) -> Timing:
        """``--sklearn-repeats`` timed calls of ``work``."""

        def run(_: int) -> None:
            work()

        return time_runs(run, self.args.sklearn_repeats)

    # -- scenarios -----------------------------------------------------------

    def pages(self, target: str) -> Timing | None:
        """The metrics page without and with a row filter; returns scikit-learn's
        page timing (for the curve estimate)."""
        k, t_sk = self.ds.labels, self.thresholds.next()
        timing, first = self.measure("metrics page", PAGE_QUERY, self.fresh())
        sk = None
        if isinstance(timing, Timing):
            log("    scikit-learn")
            sk = self.sklearn(lambda: sklearn_page(self.arrays, t_sk, k))
        self.result("metrics page, new threshold, no row filter", timing, sklearn=sk,
                    bound=self.bound, target=target, note=_first(first))
        timing, first = self.measure("summary only", SUMMARY_QUERY, self.fresh())
        self.result("summary only (ten numbers), new threshold", timing,
                    target=TARGETS["summary"] if self.ds.labels <= 100 else "—",
                    note=_first(first))
        timing, first = self.measure("metrics page, row filter", PAGE_QUERY,
                                     self.fresh(EMAIL_FILTER))
        sk_filtered = None
        if isinstance(timing, Timing):
            log("    scikit-learn")
            sk_filtered = self.sklearn(
                lambda: sklearn_page(self.arrays, t_sk, k, self.arrays.channel == EMAIL))
        filtered_target = TARGETS["page_filtered"] if self.ds.labels <= 100 else target
        self.result("metrics page, new threshold, channel = email", timing, sklearn=sk_filtered,
                    bound=self.bound, target=filtered_target, note=_first(first))
        return sk

    def first_seconds(self, window: float = FIRST_SECONDS) -> None:
        """Right after loading: the first request (it loads the split), then
        the page scenarios and the curve take turns, one request each at a
        new threshold (and a new filter for that scenario), until ``window``
        seconds after the split was loaded. Each gets a row of its own."""
        log(f"  the first {window:g} s after loading")
        started = time.perf_counter()
        self.client.post(PAGE_QUERY, split_vars(self.thresholds.next()))
        loaded = time.perf_counter()
        self.result("first request after start (loads the split)", Timing((loaded - started,)),
                    phase="first 10 s")
        scenarios: list[tuple[str, str, Callable[[], dict[str, Any]], str]] = [
            ("metrics page, new threshold, no row filter", PAGE_QUERY,
             lambda: split_vars(self.thresholds.next()), TARGETS["page_early"]),
            ("metrics page, new threshold, channel = email", PAGE_QUERY,
             lambda: split_vars(self.thresholds.next(), EMAIL_FILTER), "—"),
            (f"metrics page, new threshold, {NEW_FILTER_NAME}", PAGE_QUERY,
             lambda: split_vars(self.thresholds.next(), self.filters.next()), "—"),
            ("101-point curve (macro)", CURVE_QUERY,
             lambda: split_vars(self.thresholds.next()), "—"),
        ]
        samples: list[list[float]] = [[] for _ in scenarios]
        while time.perf_counter() - loaded < window:
            for i, (_, query, variables, _) in enumerate(scenarios):
                samples[i].append(self.client.post_timed(query, variables())[0])
        for (name, _, _, target), timed in zip(scenarios, samples, strict=True):
            self.result(name, Timing(tuple(timed)), phase="first 10 s", target=target,
                        note=f"{len(timed)} requests; first {fmt_seconds(timed[0])}")

    def wait_for_index(self, timeout: float = 600.0) -> None:
        """Settled means the split's threshold index is built: at 100M rows
        the build (at nice 19, behind the requests of the first seconds) can
        outlast the first window. Waits, idle, until /metrics reports index
        bytes, and records when they appeared."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            status, body = self.client.get("/metrics")
            if status == 200 and _index_bytes(body.decode()) > 0:
                break
            time.sleep(0.05)
        waited = time.perf_counter() - started
        log(f"  index ready {waited:.1f} s after the first {FIRST_SECONDS:g} s")
        note = ("it was built within the first 10 s" if waited < 0.1 else
                "the index build outlasted the first 10 s")
        self.result("wait for the threshold index after the first 10 s (idle)",
                    Timing((waited,)), phase="settled", note=note)

    def new_filter(self) -> None:
        """The page under a row filter never asked before, each request."""
        timing, first = self.measure("metrics page, a new row filter each time", PAGE_QUERY,
                                     lambda _: split_vars(self.thresholds.next(),
                                                          self.filters.next()))
        sk = None
        if isinstance(timing, Timing):
            k, t_sk = self.ds.labels, self.thresholds.next()
            subsets = [self.filters.codes(self.filters.next()) for _ in range(8)]
            log("    scikit-learn")
            # The row mask is part of scikit-learn's work, as the filter is of ours.
            sk = self.sklearn(lambda: sklearn_page(
                self.arrays, t_sk, k, np.isin(self.arrays.segment, subsets.pop())))
        target = TARGETS["new_filter"] if self.ds.labels <= 100 else "—"
        self.result(f"metrics page, new threshold, {NEW_FILTER_NAME}", timing, sklearn=sk,
                    bound=self.bound, target=target,
                    note=_join(_first(first), "each request a filter never asked before"))

    def curves(self, sk_page: Timing | None) -> None:
        timing, first = self.measure("curve", CURVE_QUERY, self.fresh())
        estimate = None if sk_page is None else 101 * sk_page.median
        self.result("101-point curve (macro)", timing, sklearn=estimate, bound=self.bound,
                    target=TARGETS["curve"],
                    note=_join(_first(first), "sklearn: 101 × its metrics page"))
        label = self.ds.label_names[0]
        timing, first = self.measure("curve of one label", LABEL_CURVE_QUERY,
                                     self.fresh(l=label))
        sk = None
        if isinstance(timing, Timing):
            from sklearn.metrics import precision_recall_curve

            a, p, c = self.arrays.actual, self.arrays.predicted, self.arrays.confidence
            log("    scikit-learn")
            sk = self.sklearn(lambda: precision_recall_curve(a == 0, np.where(p == 0, c, 0.0)))
        self.result(f"101-point curve of {label} (the most frequent)", timing, sklearn=sk,
                    bound=self.bound, target=TARGETS["curve"],
                    note=_join(_first(first), "sklearn: precision_recall_curve, one-vs-rest"))

    def drill_down(self) -> None:
        t_walk = self.thresholds.next()
        actual, predicted, count = self._cell(t_walk)
        names = self.ds.label_names
        cell = {"a": names[actual], "b": names[predicted]}
        timing, first = self.measure("drill-down, first page", ROWS_QUERY,
                                     self.fresh(**cell, after=None))
        self.result(f"drill-down {cell['a']} → {cell['b']}, first page", timing,
                    target=TARGETS["first_page"],
                    note=_join(_first(first), f"cell of {count:,} rows"))
        if not isinstance(timing, Timing):
            self.result("drill-down, page 100", timing, target=TARGETS["deep_page"])
            return
        log(f"  drill-down, walking to page {DEEP_PAGE}")
        walk_started = time.perf_counter()
        after = None
        for page in range(1, DEEP_PAGE):
            data = metrics_of(self.client.post(ROWS_QUERY, split_vars(t_walk, **cell, after=after)))
            rows = data["rows"]
            if page == 1 and rows["totalCount"] != count:
                log(f"    totalCount {rows['totalCount']} != {count} counted with NumPy")
            if not rows["pageInfo"]["hasNextPage"]:
                self.result(f"drill-down, page {DEEP_PAGE}", f"n/a (only {page} pages)",
                            target=TARGETS["deep_page"])
                return
            after = rows["pageInfo"]["endCursor"]
        walked = time.perf_counter() - walk_started
        timing, first = self.measure(f"drill-down, page {DEEP_PAGE}", ROWS_QUERY,
                                     lambda _: split_vars(t_walk, **cell, after=after))
        self.result(f"drill-down, page {DEEP_PAGE} (`after` its cursor)", timing,
                    target=TARGETS["deep_page"],
                    note=f"same cursor each time; walking pages 1-{DEEP_PAGE - 1}: "
                         f"{fmt_seconds(walked)}")

    def _cell(self, threshold: float) -> tuple[int, int, int]:
        """The largest off-diagonal cell at ``threshold`` if it has 100 pages,
        else the largest diagonal one: (actual, predicted, count)."""
        k = self.ds.labels
        a, p = abstained(self.arrays, threshold, k)
        counts = np.bincount(a.astype(np.int64) * (k + 1) + p, minlength=(k + 1) ** 2)
        counts = counts.reshape(k + 1, k + 1)[:k, :k]
        off = counts.copy()
        np.fill_diagonal(off, 0)
        i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        if off[i, j] < PAGE_SIZE * DEEP_PAGE:
            i = j = int(np.argmax(np.diag(counts)))
        return int(i), int(j), int(counts[i, j])

    def breakdown(self) -> None:
        timing, first = self.measure("breakdown", BREAKDOWN_QUERY, self.fresh())
        sk = None
        if isinstance(timing, Timing):
            from sklearn.metrics import accuracy_score

            t, k, segment = self.thresholds.next(), self.ds.labels, self.arrays.segment

            def per_segment() -> None:
                for s in range(len(self.ds.segment_names)):
                    accuracy_score(*abstained(self.arrays, t, k, segment == s))

            log("    scikit-learn")
            sk = self.sklearn(per_segment)
        self.result("breakdown by segment (50 values), accuracy", timing, sklearn=sk,
                    bound=self.bound,
                    note=_join(_first(first), "sklearn: accuracy_score per segment"))

    def memory(self, server: Server, baseline: int) -> None:
        """RSS now against the split file's bytes, also net of ``baseline`` (the
        RSS of the started server before its first query: interpreter, libraries)."""
        found = server.memory()
        columns = split_file(self.ds).stat().st_size
        rss, peak = found["VmRSS"], found.get("VmHWM", found["VmRSS"])
        self.result("resident memory after the scenarios", f"{fmt_bytes(rss)}",
                    phase="after", target=TARGETS["memory"],
                    note=f"{rss / columns:.2f}× the split file ({fmt_bytes(columns)}); "
                         f"{(rss - baseline) / columns:.2f}× net of the "
                         f"{fmt_bytes(baseline)} before the first query; peak {fmt_bytes(peak)}")


NEW_FILTER_NAME = "a new row filter (`segment in` 10-25 of 50 values)"


class NewFilters:
    """Row filters never handed out twice in a run: ``segment in`` a random
    subset of 10 to 25 of its 50 values (seeded, so every run asks the same)."""

    def __init__(self, ds: Dataset, seed: int = 14) -> None:
        self.names = ds.segment_names
        self.rng = np.random.default_rng(seed)
        self.seen: set[frozenset[str]] = set()

    def next(self) -> list[dict[str, Any]]:
        while True:
            size = int(self.rng.integers(10, 26))
            picked = self.rng.choice(len(self.names), size=size, replace=False)
            subset = frozenset(self.names[i] for i in picked)
            if subset not in self.seen:
                self.seen.add(subset)
                return [{"column": "segment", "in": sorted(subset)}]

    def codes(self, where: list[dict[str, Any]]) -> np.ndarray:
        """The segment codes a filter of ``next`` keeps (for scikit-learn's mask)."""
        return np.array([self.names.index(v) for v in where[0]["in"]], dtype=np.int32)


def cold_start(ds: Dataset, repeats: int) -> Result:
    """Fresh server processes: seconds from process start to the first answered page."""
    log(f"  cold start × {repeats}")
    samples, ready = [], []
    thresholds = Thresholds(start=0.3)
    for _ in range(repeats):
        with serving(ds.store) as (server, client):
            client.post(PAGE_QUERY, split_vars(thresholds.next()))
            samples.append(time.perf_counter() - server.started)
            ready.append(server.ready - server.started)
    return Result(ds.title, "cold start: process start → first metrics page answered",
                  Timing(tuple(samples)), phase="cold", target=TARGETS["cold"],
                  note=f"of which until /healthz: {fmt_seconds(float(np.median(ready)))}; "
                       "OS page cache warm")


def run_dataset(ds: Dataset, full: bool, args: argparse.Namespace, bandwidth: float
                ) -> list[Result]:
    """Every scenario of ``ds`` (the page scenarios only unless ``full``)."""
    prepare(ds, reingest=args.reingest)
    log(f"{ds.title}: reading the arrays back for scikit-learn")
    arrays = load_arrays(ds)
    results = [cold_start(ds, args.cold_repeats)] if full else []
    log(f"{ds.title}: warm scenarios")
    with serving(ds.store) as (server, client):
        baseline = server.memory()["VmRSS"]
        bench = Bench(ds, arrays, client, args, bandwidth)
        bench.first_seconds()
        bench.wait_for_index()
        log(f"{ds.title}: settled")
        target = TARGETS["page"] if ds.labels <= 100 else TARGETS["page_1000"]
        sk_page = bench.pages(target)
        bench.new_filter()
        if full:
            bench.curves(sk_page)
            bench.drill_down()
            bench.breakdown()
        bench.memory(server, baseline)
    return results + bench.results


def _index_bytes(exposition: str) -> float:
    """``evalql_cache_bytes{kind="indexes"}`` from a /metrics page (0 if absent)."""
    for line in exposition.splitlines():
        if line.startswith('evalql_cache_bytes{kind="indexes"}'):
            return float(line.split()[-1])
    return 0.0


def _first(seconds: float | None) -> str:
    return "" if seconds is None else f"first request {fmt_seconds(seconds)}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="rows per dataset (default 10M)")
    parser.add_argument("--labels-list", default="100",
                        help="comma-separated label counts; the first gets every scenario")
    parser.add_argument("--repeats", type=int, default=None, help="requests per scenario (20)")
    parser.add_argument("--sklearn-repeats", type=int, default=None, help="default 3")
    parser.add_argument("--cold-repeats", type=int, default=None, help="server starts (3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1M rows, 5 repeats, 2 scikit-learn runs, 2 cold starts")
    parser.add_argument("--big", action="store_true", help="also 100M rows x 100 labels")
    parser.add_argument("--reingest", action="store_true",
                        help="rebuild the stores from the cached Parquet files")
    parser.add_argument("--profile", action="store_true",
                        help="also profile a settled page of the first dataset (cProfile, "
                             "in process; bench/profile_page.py)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rows = args.rows or (1_000_000 if quick else 10_000_000)
    args.repeats = args.repeats or (5 if quick else 20)
    args.sklearn_repeats = args.sklearn_repeats or (2 if quick else 3)
    args.cold_repeats = args.cold_repeats or (2 if quick else 3)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    labels = [int(k) for k in args.labels_list.split(",") if k.strip()]
    datasets = [(Dataset(args.rows, k), i == 0) for i, k in enumerate(labels)]
    if args.big:
        datasets.append((Dataset(100_000_000, 100), True))
    log("measuring memory bandwidth (NumPy sum and copy of 1 GB)")
    bandwidth, copying = memory_bandwidth(), copy_bandwidth()
    print_machine([
        ("memory bandwidth, read (measured)",
         f"{bandwidth / 1e9:.1f} GB/s: NumPy summing a 1 GB float64 array, one core, median of 5"),
        ("memory bandwidth, copy (measured)",
         f"{copying / 1e9:.1f} GB/s read + written: NumPy copying 1 GB, one core, median of 5"),
    ])
    warm_sklearn()
    results: list[Result] = []
    for ds, full in datasets:
        results += run_dataset(ds, full, args, bandwidth)

    print(f"Bandwidth bound = {BYTES_PER_ROW} bytes/row × rows / the read bandwidth above: "
          "what one pass over the label columns costs on one core.")
    sizes = ", ".join(f"{ds.title}: {human_count(ds.rows)} rows, Zipf-skewed" for ds, _ in datasets)
    print(f"Datasets: {sizes}. evalql: {args.repeats} requests per scenario through HTTP "
          f"GraphQL (keep-alive), each metrics request at a threshold never asked before; "
          f"scikit-learn: {args.sklearn_repeats} runs on the same arrays.")
    print(f"Phases: first 10 s = the first {FIRST_SECONDS:g} s after the split is loaded "
          "(scenarios taking turns, indexes building); settled = afterwards; cold = fresh "
          "server processes.")
    print()
    print(markdown_table(HEADERS, [r.cells() for r in results]))
    if args.profile:
        from profile_page import profile_pages

        ds = datasets[0][0]
        log(f"{ds.title}: profiling a settled page in process")
        print()
        print(profile_pages(ds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
