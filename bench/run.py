"""The performance bench of issues 4 and 14: every scenario, one table.

For each reference dataset (10M x 100 by default; --labels-list 100,1000
adds 10M x 1000, --labels-list 100,10000 10M x 10k, --big 100M x 100) it
generates and ingests the data once (cached in bench/data/; the ingest, when
it runs, is a row: wall and CPU time and peak memory of ``evalql ingest``),
measures cold start on fresh server processes, then on one server times,
through GraphQL over HTTP, each scenario twice: in the first 10 s after the
split is loaded (its indexes still building; the scenarios take turns, one
request each, until 10 s have passed) and settled (once /metrics reports the
threshold index built, ``--repeats`` requests each):

- the metrics page (summary, matrix, per-label table) at a new threshold per
  request, without and with a row filter (the same filter each time), and
  with a row filter never asked before (``segment in`` a new random subset
  of its 50 values, each request); the ten summary numbers alone;
- the 101-point threshold curve (macro, and of one label);
- drill-down: the first page and page 100 of one confusion cell;
- a breakdown over the 50-value ``segment`` column;
- the server's resident memory against the bytes of the label and
  confidence columns (12 a row), net of the idle server.

A dataset with more labels than a dense matrix allows (10,000) has no page
(its 10,001² matrix is refused) and gets its own scenarios instead, first
10 s and settled: the per-label table (the page's fields) and
``confusionMatrix { cells(first: 100) }`` at a new threshold per request,
and ``thresholdForPrecision`` of a label never asked before per request.

The multilabel drill-down (``--multilabel``, on by default when its store
exists; 10M rows x 50 labels from bench/multilabel.py, 1M with --quick):
a label's false positives, first page, at a new threshold per request, once
the label-set index is built.

scikit-learn runs on the same arrays in the same run where it has an
equivalent, and the bandwidth bound (12 bytes a row at the measured memory
bandwidth) shows what a full scan cannot beat. Fields the server does not have
yet are reported as "n/a (not implemented)". The 1,000-label dataset (and any
dense one after the first) gets the metrics page scenarios only. Each row's
target is issue 14's (issue 4's where 14 sets none) for that dataset, marked
✓ (met) or ✗ (missed) against the median when it is a bound.

The machine goes beside the numbers: cores, CPU, memory, and the memory
bandwidth this run measured (a NumPy sum and a NumPy copy of 1 GB).
``--profile`` adds where a settled page spends its time (cProfile of the
page executed in process, bench/profile_page.py).

    python bench/run.py --quick          # 1M rows, few repeats: a smoke test
    python bench/run.py                  # 10M x 100, about 3-5 minutes
    python bench/run.py --profile        # and the page's profile
    python bench/run.py --labels-list 100,10000 --multilabel --big --reingest
                                         # every row of issue 14 (ingests timed)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import (
    CHANNELS,
    DATA_DIR,
    EMAIL_FILTER,
    PAGE_QUERY,
    PER_LABEL_FIELDS,
    Arrays,
    Client,
    Dataset,
    GraphQLFailure,
    IngestRun,
    Server,
    Thresholds,
    Timing,
    abstained,
    available_memory,
    copy_bandwidth,
    fmt_bytes,
    fmt_ratio,
    fmt_seconds,
    human_count,
    is_ingested,
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

from evalql.api.limits import is_dense

BYTES_PER_ROW = 12  # actual int32 + predicted int32 + confidence float32
PAGE_SIZE = 50
DEEP_PAGE = 100
EMAIL = CHANNELS.index("email")
CELLS = 100  # confusionMatrix.cells(first:) at 10,000 labels
MIN_PRECISION = 0.9  # thresholdForPrecision's minPrecision
MULTILABEL_LABELS = 50
# evalql ingest of 100M rows peaks near 8 GiB (bench/ingest.py).
INGEST_BYTES_PER_ROW = 9 * 2**30 / 100_000_000

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

# Past the dense-matrix limit (10,000 labels): the page's pieces that remain.
LABEL_TABLE_QUERY = split_query("LabelTable", PER_LABEL_FIELDS)
CELLS_QUERY = split_query(
    "Cells", f"confusionMatrix {{ cells(first: {CELLS}) {{ actual predicted count }} }}"
)
PRECISION_QUERY = split_query(
    "ThresholdForPrecision",
    "thresholdForPrecision(label: $l, minPrecision: $p) { threshold precision recall coverage }",
    ", $l: String!, $p: Float!",
)
FIRST_SECONDS = 10.0  # the window after loading reported apart from the settled state
INDEX_TIMEOUT = 600.0  # the longest wait for an index before the settled phase


@dataclass(frozen=True)
class Target:
    """A row's target: its text and, when it is a bound, the bound on the
    measured value (seconds, or bytes for memory) and the least ratio of
    scikit-learn's time to ours."""

    text: str
    limit: float | None = None
    min_ratio: float | None = None

    def cell(self, value: float | None, ratio: float | None) -> str:
        """The text, with ✓ (met) or ✗ (missed) when it is a bound and
        ``value`` was measured: ``≤ 10 ms ✓``."""
        if value is None or (self.limit is None and self.min_ratio is None):
            return self.text
        met = self.limit is None or value <= self.limit
        if self.min_ratio is not None and ratio is not None:
            met = met and ratio >= self.min_ratio
        return f"{self.text} {'✓' if met else '✗'}"


NO_TARGET = Target("—")


def within(seconds: float, min_ratio: float | None = None) -> Target:
    """At most ``seconds`` (and at least ``min_ratio`` × faster than scikit-learn)."""
    text = f"≤ {seconds:g} s" if seconds >= 1 else f"≤ {seconds * 1000:g} ms"
    if min_ratio is not None:
        text += f", ≥ {min_ratio:g}× scikit-learn"
    return Target(text, seconds, min_ratio)


def targets_for(ds: Dataset) -> dict[str, Target]:
    """The targets of ``ds``'s rows by scenario key: issue 14's at 10M x 100,
    100M x 100 and 10,000 labels, issue 4's where 14 sets none (1,000 labels,
    the filtered page, curves, page 100, cold start at 10M). A key missing
    has no target."""
    if not is_dense(ds.labels):
        return {"label_table": within(0.25), "cells": within(0.25),
                "threshold_for_precision": within(0.1)}
    if ds.labels > 100:
        return {"page": within(0.25), "page_filtered": within(0.25)}
    if ds.rows >= 100_000_000:
        return {"page": within(0.015), "page_early": within(0.015), "new_filter": within(0.15),
                "first_page": within(0.02), "cold": within(5.0), "ingest": within(60.0)}
    return {"page": within(0.010, 300), "page_early": within(0.015), "summary": within(0.003),
            "page_filtered": within(0.040), "new_filter": within(0.025), "curve": within(0.050),
            "first_page": within(0.020), "deep_page": within(0.050), "cold": within(2.0)}


def memory_factor(ds: Dataset) -> int | None:
    """Issue 14's bound on the resident set: idle + this many × the columns
    (3 at 10M x 100, 2 at 100M x 100; none for other datasets)."""
    if ds.labels > 100:
        return None
    return 2 if ds.rows >= 100_000_000 else 3


@dataclass
class Result:
    """One line of the table; ``evalql`` is a Timing, or a text such as "n/a"
    (then ``value``, when given, is what the target bounds, e.g. bytes)."""

    dataset: str
    scenario: str
    evalql: Timing | str
    phase: str = "settled"
    sklearn: Timing | float | None = None  # a float is an estimate, in seconds
    bound: float | None = None
    target: Target = NO_TARGET
    note: str = ""
    value: float | None = None

    def cells(self) -> list[str]:
        if isinstance(self.evalql, Timing):
            median, p95 = fmt_seconds(self.evalql.median), fmt_seconds(self.evalql.p95)
            ours: float | None = self.evalql.median
        else:
            median, p95, ours = self.evalql, "—", self.value
        if isinstance(self.sklearn, Timing):
            theirs: float | None = self.sklearn.median
            sk = fmt_seconds(theirs)
        elif isinstance(self.sklearn, float):
            theirs = self.sklearn
            sk = f"≈ {fmt_seconds(theirs)} (est.)"
        else:
            theirs, sk = None, "—"
        timed = isinstance(self.evalql, Timing)
        ratio = theirs / ours if theirs is not None and ours and timed else None
        if timed and len(self.evalql.samples) == 1:
            p95 = "—"  # one sample has no spread
        return [self.dataset, self.scenario, self.phase, median, p95, sk, fmt_ratio(ratio),
                fmt_seconds(self.bound), self.target.cell(ours, ratio), self.note]


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
        self.targets = targets_for(ds)
        # thresholdForPrecision asks each label once: the settled phase the
        # most frequent (the most predictions to sort), from rank 0; the first
        # 10 s the ones after those.
        self.next_label = args.repeats + 1

    def target(self, key: str) -> Target:
        return self.targets.get(key, NO_TARGET)

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

    def pages(self) -> Timing | None:
        """The metrics page without and with a row filter; returns scikit-learn's
        page timing (for the curve estimate)."""
        k, t_sk = self.ds.labels, self.thresholds.next()
        timing, first = self.measure("metrics page", PAGE_QUERY, self.fresh())
        sk = None
        if isinstance(timing, Timing):
            log("    scikit-learn")
            sk = self.sklearn(lambda: sklearn_page(self.arrays, t_sk, k))
        self.result("metrics page, new threshold, no row filter", timing, sklearn=sk,
                    bound=self.bound, target=self.target("page"), note=_first(first))
        timing, first = self.measure("summary only", SUMMARY_QUERY, self.fresh())
        self.result("summary only (ten numbers), new threshold", timing,
                    target=self.target("summary"), note=_first(first))
        timing, first = self.measure("metrics page, row filter", PAGE_QUERY,
                                     self.fresh(EMAIL_FILTER))
        sk_filtered = None
        if isinstance(timing, Timing):
            log("    scikit-learn")
            sk_filtered = self.sklearn(
                lambda: sklearn_page(self.arrays, t_sk, k, self.arrays.channel == EMAIL))
        self.result("metrics page, new threshold, channel = email", timing, sklearn=sk_filtered,
                    bound=self.bound, target=self.target("page_filtered"), note=_first(first))
        return sk

    def first_seconds(self, window: float = FIRST_SECONDS) -> None:
        """Right after loading: the first request (it loads the split), then
        the scenarios take turns, one request each at a new threshold (and a
        new filter or label where the scenario asks for one), until ``window``
        seconds after the split was loaded. Each gets a row of its own.

        The page scenarios and the curve; past the dense-matrix limit, the
        per-label table, the matrix's cells and thresholdForPrecision."""
        log(f"  the first {window:g} s after loading")
        started = time.perf_counter()
        first_query = PAGE_QUERY if self.dense else LABEL_TABLE_QUERY
        self.client.post(first_query, split_vars(self.thresholds.next()))
        loaded = time.perf_counter()
        self.result("first request after start (loads the split)", Timing((loaded - started,)),
                    phase="first 10 s")
        scenarios = self._early_scenarios() if self.dense else self._wide_scenarios()
        samples: list[list[float]] = [[] for _ in scenarios]
        while time.perf_counter() - loaded < window:
            for i, (_, query, variables, _) in enumerate(scenarios):
                samples[i].append(self.client.post_timed(query, variables())[0])
        for (name, _, _, target), timed in zip(scenarios, samples, strict=True):
            self.result(name, Timing(tuple(timed)), phase="first 10 s", target=target,
                        note=f"{len(timed)} requests; first {fmt_seconds(timed[0])}")

    @property
    def dense(self) -> bool:
        """Whether the dataset's confusion matrix is served whole (the page)."""
        return is_dense(self.ds.labels)

    def _early_scenarios(self) -> list[Scenario]:
        return [
            ("metrics page, new threshold, no row filter", PAGE_QUERY,
             lambda: split_vars(self.thresholds.next()), self.target("page_early")),
            ("metrics page, new threshold, channel = email", PAGE_QUERY,
             lambda: split_vars(self.thresholds.next(), EMAIL_FILTER), NO_TARGET),
            (f"metrics page, new threshold, {NEW_FILTER_NAME}", PAGE_QUERY,
             lambda: split_vars(self.thresholds.next(), self.filters.next()), NO_TARGET),
            ("101-point curve (macro)", CURVE_QUERY,
             lambda: split_vars(self.thresholds.next()), NO_TARGET),
        ]

    def _wide_scenarios(self) -> list[Scenario]:
        return [
            (LABEL_TABLE_NAME, LABEL_TABLE_QUERY, lambda: split_vars(self.thresholds.next()),
             self.target("label_table")),
            (CELLS_NAME, CELLS_QUERY, lambda: split_vars(self.thresholds.next()),
             self.target("cells")),
            (PRECISION_NAME, PRECISION_QUERY, self._precision_vars,
             self.target("threshold_for_precision")),
        ]

    def _precision_vars(self) -> dict[str, Any]:
        """thresholdForPrecision of the next label never asked (its precision
        steps are kept per label, so a label asked again would cost nothing)."""
        label = self.ds.label_names[self.next_label % self.ds.labels]
        self.next_label += 1
        return split_vars(self.thresholds.next(), l=label, p=MIN_PRECISION)

    def wait_for_index(self) -> None:
        """Settled means the split's threshold index is built: at 100M rows
        the build (at nice 19, behind the requests of the first seconds) can
        outlast the first window. Waits, idle, until it is, and records how long."""
        waited = wait_for_index(self.client)
        log(f"  index ready {waited:.1f} s after the first {FIRST_SECONDS:g} s")
        note = ("it was built within the first 10 s" if waited < 0.1 else
                "the index build outlasted the first 10 s")
        if waited >= INDEX_TIMEOUT:
            note = f"not built after {INDEX_TIMEOUT:g} s: the settled rows are scans"
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
        self.result(f"metrics page, new threshold, {NEW_FILTER_NAME}", timing, sklearn=sk,
                    bound=self.bound, target=self.target("new_filter"),
                    note=_join(_first(first), "each request a filter never asked before"))

    def curves(self, sk_page: Timing | None) -> None:
        timing, first = self.measure("curve", CURVE_QUERY, self.fresh())
        estimate = None if sk_page is None else 101 * sk_page.median
        self.result("101-point curve (macro)", timing, sklearn=estimate, bound=self.bound,
                    target=self.target("curve"),
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
                    bound=self.bound, target=self.target("curve"),
                    note=_join(_first(first), "sklearn: precision_recall_curve, one-vs-rest"))

    def drill_down(self) -> None:
        t_walk = self.thresholds.next()
        actual, predicted, count = self._cell(t_walk)
        names = self.ds.label_names
        cell = {"a": names[actual], "b": names[predicted]}
        timing, first = self.measure("drill-down, first page", ROWS_QUERY,
                                     self.fresh(**cell, after=None))
        self.result(f"drill-down {cell['a']} → {cell['b']}, first page", timing,
                    target=self.target("first_page"),
                    note=_join(_first(first), f"cell of {count:,} rows"))
        if not isinstance(timing, Timing):
            self.result("drill-down, page 100", timing, target=self.target("deep_page"))
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
                            target=self.target("deep_page"))
                return
            after = rows["pageInfo"]["endCursor"]
        walked = time.perf_counter() - walk_started
        timing, first = self.measure(f"drill-down, page {DEEP_PAGE}", ROWS_QUERY,
                                     lambda _: split_vars(t_walk, **cell, after=after))
        self.result(f"drill-down, page {DEEP_PAGE} (`after` its cursor)", timing,
                    target=self.target("deep_page"),
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
        """RSS now against the bytes of the label and confidence columns (12 a
        row), net of ``baseline`` (the RSS of the started server before its
        first query: interpreter, libraries); the split file's size beside."""
        found = server.memory()
        columns = BYTES_PER_ROW * self.ds.rows
        stored = split_file(self.ds).stat().st_size
        rss, peak = found["VmRSS"], found.get("VmHWM", found["VmRSS"])
        factor = memory_factor(self.ds)
        target = NO_TARGET if factor is None else Target(
            f"idle + {factor}× columns", limit=baseline + factor * columns)
        self.result("resident memory after the scenarios", f"{fmt_bytes(rss)}",
                    phase="after", target=target, value=rss,
                    note=f"idle {fmt_bytes(baseline)} + {(rss - baseline) / columns:.2f}× the "
                         f"{fmt_bytes(columns)} of label and confidence columns; split file "
                         f"{fmt_bytes(stored)}; peak {fmt_bytes(peak)}")

    # -- past the dense-matrix limit (10,000 labels) --------------------------

    def label_table(self) -> None:
        """The per-label table alone, new threshold each request; scikit-learn:
        precision_recall_fscore_support per label."""
        timing, first = self.measure("per-label table", LABEL_TABLE_QUERY, self.fresh())
        sk = None
        if isinstance(timing, Timing):
            from sklearn.metrics import precision_recall_fscore_support

            k, t = self.ds.labels, self.thresholds.next()
            labels = np.arange(k)
            log("    scikit-learn")
            sk = self.sklearn(lambda: precision_recall_fscore_support(
                *abstained(self.arrays, t, k), labels=labels, average=None, zero_division=0))
        self.result(LABEL_TABLE_NAME, timing, sklearn=sk, bound=self.bound,
                    target=self.target("label_table"),
                    note=_join(_first(first), "sklearn: precision_recall_fscore_support, "
                                              "average=None"))

    def cells(self) -> None:
        """The matrix's 100 largest cells, new threshold each request;
        scikit-learn: its dense confusion_matrix, then the 100 largest."""
        timing, first = self.measure("confusion cells", CELLS_QUERY, self.fresh())
        sk = None
        if isinstance(timing, Timing):
            from sklearn.metrics import confusion_matrix

            k, t = self.ds.labels, self.thresholds.next()
            labels = np.arange(k + 1)

            def largest() -> None:
                counts = confusion_matrix(*abstained(self.arrays, t, k), labels=labels).ravel()
                top = np.argpartition(counts, -CELLS)[-CELLS:]
                top[np.argsort(-counts[top], kind="stable")]

            log("    scikit-learn")
            sk = self.sklearn(largest)
        dense = fmt_bytes(8 * (self.ds.labels + 1) ** 2)
        self.result(CELLS_NAME, timing, sklearn=sk, bound=self.bound, target=self.target("cells"),
                    note=_join(_first(first), f"sklearn: confusion_matrix ({dense} dense) "
                                              f"+ its {CELLS} largest"))

    def threshold_for_precision(self) -> None:
        """thresholdForPrecision of a label never asked before, each request;
        scikit-learn: precision_recall_curve one-vs-rest, then the search."""
        self.next_label = warm_up = 0  # then the timed requests' labels, up to done
        timing, first = self.measure("thresholdForPrecision", PRECISION_QUERY,
                                     lambda _: self._precision_vars())
        done = self.next_label
        sk = None
        if isinstance(timing, Timing):
            codes = itertools.cycle(range(warm_up + 1, done))
            log("    scikit-learn")
            sk = self.sklearn(lambda: sklearn_threshold_for_precision(
                self.arrays, next(codes), MIN_PRECISION))
        self.result(PRECISION_NAME, timing, sklearn=sk,
                    target=self.target("threshold_for_precision"),
                    note=_join(_first(first), f"labels of frequency ranks {warm_up + 1}-{done - 1} "
                                              "(rank 0 = most frequent), one each; sklearn: "
                                              "precision_recall_curve one-vs-rest + search"))


Scenario = tuple[str, str, Callable[[], dict[str, Any]], Target]

LABEL_TABLE_NAME = (f"per-label table ({len(PER_LABEL_FIELDS.split()) - 3} fields × every "
                    "label), new threshold")
CELLS_NAME = f"`confusionMatrix {{ cells(first: {CELLS}) }}`, new threshold"
PRECISION_NAME = (f"`thresholdForPrecision(minPrecision: {MIN_PRECISION})`, "
                  "a label never asked before")


def sklearn_threshold_for_precision(arrays: Arrays, code: int, min_precision: float) -> float:
    """The lowest threshold at which label ``code``'s precision reaches
    ``min_precision``, by scikit-learn's precision_recall_curve one-vs-rest
    (rows not predicted as the label score 0); nan when none does."""
    from sklearn.metrics import precision_recall_curve

    scores = np.where(arrays.predicted == code, arrays.confidence, np.float32(0))
    precision, _, thresholds = precision_recall_curve(arrays.actual == code, scores)
    reached = np.flatnonzero(precision[:-1] >= min_precision)
    return float(thresholds[reached[0]]) if len(reached) else float("nan")


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
                  Timing(tuple(samples)), phase="cold",
                  target=targets_for(ds).get("cold", NO_TARGET),
                  note=f"of which until /healthz: {fmt_seconds(float(np.median(ready)))}; "
                       "OS page cache warm")


def ingest_result(ds: Dataset, args: argparse.Namespace) -> Result:
    """Generate and ingest ``ds`` unless cached; the ingest, when it ran, timed
    (the row says so when the store was reused: ``--reingest`` times it)."""
    needed = INGEST_BYTES_PER_ROW * ds.rows
    if (args.reingest or not is_ingested(ds)) and available_memory() < needed:
        log(f"  warning: {fmt_bytes(available_memory())} available; an ingest of {ds.title} "
            f"peaks near {fmt_bytes(needed)}")
    run: IngestRun | None = prepare(ds, reingest=args.reingest)
    target = targets_for(ds).get("ingest", NO_TARGET)
    size = fmt_bytes(ds.parquet.stat().st_size)
    scenario = f"ingest (`evalql ingest` of the {size} Parquet file)"
    if run is None:
        return Result(ds.title, scenario, "not run (store reused)", phase="ingest",
                      target=target, note="--reingest times it")
    return Result(ds.title, scenario, Timing((run.wall,)), phase="ingest", target=target,
                  note=f"CPU {run.cpu:.1f} s (user {run.user:.1f}, system {run.system:.1f}); "
                       f"peak RSS {fmt_bytes(run.peak_rss)}; load {run.load:.1f} at its start")


def run_dataset(ds: Dataset, full: bool, args: argparse.Namespace, bandwidth: float
                ) -> list[Result]:
    """Every scenario of ``ds`` (the page scenarios only unless ``full``; past
    the dense-matrix limit, the label-scale scenarios instead)."""
    results = [ingest_result(ds, args)]
    log(f"{ds.title}: reading the arrays back for scikit-learn")
    arrays = load_arrays(ds)
    dense = is_dense(ds.labels)
    if full and dense:
        results.append(cold_start(ds, args.cold_repeats))
    log(f"{ds.title}: warm scenarios")
    with serving(ds.store) as (server, client):
        baseline = server.memory()["VmRSS"]
        bench = Bench(ds, arrays, client, args, bandwidth)
        bench.first_seconds()
        if dense:  # past the limit there is no threshold index to wait for
            bench.wait_for_index()
        log(f"{ds.title}: settled")
        if dense:
            sk_page = bench.pages()
            bench.new_filter()
            if full:
                bench.curves(sk_page)
                bench.drill_down()
                bench.breakdown()
        else:
            bench.label_table()
            bench.cells()
            bench.threshold_for_precision()
        bench.memory(server, baseline)
    return results + bench.results


def run_multilabel(rows: int, repeats: int) -> list[Result]:
    """Issue 14's multilabel drill-down: a label's false positives (the most
    frequent label's), first page, at a new threshold per request, once the
    label-set index is built. Data and queries are bench/multilabel.py's."""
    import multilabel

    directory = DATA_DIR / f"ml-{rows}x{MULTILABEL_LABELS}"
    store = multilabel.prepare(rows, MULTILABEL_LABELS, directory)
    title = f"{human_count(rows)} x {MULTILABEL_LABELS} multilabel"
    label = multilabel.label_names(MULTILABEL_LABELS)[0]
    thresholds = Thresholds()

    def ask(_: int) -> float:
        variables = split_vars(thresholds.next(), label=label, after=None)
        return client.post_timed(multilabel.DRILL_QUERY, variables)[0]

    log(f"{title}: drill-down")
    with serving(store) as (_, client):
        loading = ask(-1)  # loads the split and starts the label-set index build
        waited = wait_for_index(client)
        log(f"  label-set index ready {waited:.1f} s after the first request")
        built = (f"built {fmt_seconds(waited)} after the first request" if waited < INDEX_TIMEOUT
                 else f"NOT built after {INDEX_TIMEOUT:g} s: these are scans")
        first = ask(-1)
        timing = time_runs(ask, repeats)
    scenario = (f"drill-down: `label(name: \"{label}\") {{ rows(outcome: FP, first: 50) }}`, "
                "first page, new threshold")
    return [Result(title, scenario, timing, target=within(0.020),
                   note=f"through the label-set index ({built}; the first request, which "
                        f"loaded the split: {fmt_seconds(loading)}); first settled request "
                        f"{fmt_seconds(first)}")]


def wait_for_index(client: Client, timeout: float = INDEX_TIMEOUT) -> float:
    """Waits, idle, until /metrics reports bytes of indexes (threshold or
    label-set), at most ``timeout`` seconds; returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        status, body = client.get("/metrics")
        if status == 200 and _index_bytes(body.decode()) > 0:
            break
        time.sleep(0.05)
    return time.perf_counter() - started


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
                        help="comma-separated label counts; the first gets every scenario, "
                             "one past the dense-matrix limit (10000) the label-scale ones")
    parser.add_argument("--repeats", type=int, default=None, help="requests per scenario (20)")
    parser.add_argument("--sklearn-repeats", type=int, default=None, help="default 3")
    parser.add_argument("--cold-repeats", type=int, default=None, help="server starts (3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1M rows, 5 repeats, 2 scikit-learn runs, 2 cold starts")
    parser.add_argument("--big", action="store_true", help="also 100M rows x 100 labels")
    parser.add_argument("--multilabel", action=argparse.BooleanOptionalAction, default=None,
                        help="the multilabel drill-down, 10M x 50 (1M with --quick); by "
                             "default when its store exists")
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
    args.multilabel_rows = 1_000_000 if quick else 10_000_000
    if args.multilabel is None:
        store = DATA_DIR / f"ml-{args.multilabel_rows}x{MULTILABEL_LABELS}" / "store"
        args.multilabel = (store / "catalog.sqlite").exists()
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
    if args.multilabel:
        results += run_multilabel(args.multilabel_rows, args.repeats)

    print(f"Bandwidth bound = {BYTES_PER_ROW} bytes/row × rows / the read bandwidth above: "
          "what one pass over the label columns costs on one core.")
    sizes = ", ".join(f"{ds.title}: {human_count(ds.rows)} rows, Zipf-skewed" for ds, _ in datasets)
    if args.multilabel:
        sizes += (f"; multilabel {human_count(args.multilabel_rows)} x {MULTILABEL_LABELS}: "
                  "about 3 actual labels a row (bench/multilabel.py)")
    print(f"Datasets: {sizes}. evalql: {args.repeats} requests per scenario through HTTP "
          f"GraphQL (keep-alive), each metrics request at a threshold never asked before; "
          f"scikit-learn: {args.sklearn_repeats} runs on the same arrays.")
    print(f"Phases: ingest = `evalql ingest` as a child process (wall; CPU and peak RSS from "
          f"wait4); cold = fresh server processes; first 10 s = the first {FIRST_SECONDS:g} s "
          "after the split is loaded (scenarios taking turns, indexes building); settled = "
          "afterwards, once /metrics reports the index built; after = once the scenarios ran.")
    print("Targets: ✓ met, ✗ missed, by the evalql median (and the ratio, where the target "
          "names one); memory: idle server + N × the 12 bytes a row of label and confidence "
          "columns.")
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
