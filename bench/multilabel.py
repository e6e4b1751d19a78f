"""Multilabel metrics at 10M rows x 50 labels (about 3 labels a row): the engine
warm, the same page through HTTP GraphQL, and scikit-learn on the indicator matrix.

Generates the data with NumPy (an indicator matrix drawn label by label, Zipf-
skewed, ~3 actual labels a row; each actual label predicted with probability
0.85 at a high confidence, plus ~0.4 false positives a row at a low one), writes
it as Parquet with list columns, ingests it with ``storage.ingest.ingest_file``
into a store under /tmp (kept there and reused by later runs), then:

- engine: ``multilabel_counts`` (per-label counts, row summary and the matrix in
  one pass) at a new threshold per run, without and with a row mask, plus the
  101-point curve, AP/ROC AUC of every label and a drill-down page;
- HTTP: ``evalql serve`` on a free port, the metrics page (summary, Hamming
  score, subset accuracy, averages, matrix, per-label table) at a new threshold
  per request, median of ``--repeats``; the server is stopped by its PID;
- scikit-learn: ``precision_recall_fscore_support`` (per label, micro, macro),
  ``hamming_loss`` and ``accuracy_score`` on dense indicator matrices of the
  first ``--sklearn-rows`` rows (1M by default: the 10M x 50 matrices cost
  about 1 GB each and tens of seconds), scaled linearly to the full row count,
  and checked against the engine on the same rows.

    python bench/multilabel.py                          # 10M x 50, 10 repeats
    python bench/multilabel.py --rows 1000000 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from common import (
    MODEL,
    RUN,
    SPLIT,
    Client,
    Thresholds,
    Timing,
    fmt_ratio,
    fmt_seconds,
    human_count,
    log,
    markdown_table,
    metrics_of,
    print_machine,
    serving,
    split_query,
    split_vars,
    time_runs,
    zipf_weights,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalql.engine.curves import grid  # noqa: E402
from evalql.engine.multilabel.counts import multilabel_counts  # noqa: E402
from evalql.engine.multilabel.curves import multilabel_threshold_counts  # noqa: E402
from evalql.engine.multilabel.index import LabelSetIndex  # noqa: E402
from evalql.engine.multilabel.ranking import rank_label_sets  # noqa: E402
from evalql.engine.multilabel.rows import (  # noqa: E402
    RowTests,
    label_confidence,
    match_rows,
    top_confidence,
)
from evalql.engine.select import NO_CURSOR, confidence_bits, select_flagged  # noqa: E402
from evalql.engine.warm import GROUPS, warm  # noqa: E402
from evalql.storage.datasets import MultilabelColumns, SplitData, SplitStore  # noqa: E402
from evalql.storage.ingest import IngestOptions, ingest_file  # noqa: E402

GENERATOR_VERSION = 1
CHUNK_ROWS = 1_000_000
MEAN_ACTUAL = 3.0  # actual labels a row, on average
P_FOUND = 0.85  # an actual label is predicted
MEAN_EXTRA = 0.4  # false positives a row, on average
CHANNELS = ("email", "chat", "phone", "web")
CHANNEL_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
EMAIL_FILTER = [{"column": "channel", "in": ["email"]}]

PAGE_FIELDS = """
    total predicted correct coverage accuracy selectiveAccuracy hammingScore subsetAccuracy
    micro: f1(average: MICRO) macro: f1 weighted: f1(average: WEIGHTED)
    precision(average: MICRO) recall(average: MICRO)
    confusionMatrix { labels counts }
    perLabel { label precision recall f1 support predicted tp fp fn tn }
"""
PAGE_QUERY = split_query("MultilabelPage", PAGE_FIELDS)
PAGE_QUERY_LABELS = split_query(
    "MultilabelPageOfLabels", PAGE_FIELDS, ", $labels: [String!]"
).replace("where: $where)", "where: $where, labels: $labels)")
CURVE_QUERY = split_query("Curve", "curve(points: 101) { threshold coverage accuracy f1 }")
RANKING_QUERY = split_query("Ranking", "meanAveragePrecision perLabel { averagePrecision rocAuc }")
DRILL_QUERY = split_query(
    "Drill", 'label(name: $label) { rows(outcome: FP, first: 50, after: $after) { totalCount '
    "nodes { id actualLabels predictedLabels confidence } pageInfo { endCursor } } }",
    ", $label: String!, $after: String",
)


def label_names(k: int) -> tuple[str, ...]:
    width = len(str(k - 1))
    return tuple(f"tag_{i:0{width}d}" for i in range(k))


def label_probabilities(k: int) -> np.ndarray:
    """Per label, the chance it is actual in a row: Zipf-skewed, summing to MEAN_ACTUAL."""
    p = zipf_weights(k, 0.8) * MEAN_ACTUAL
    return np.minimum(p, 0.9)


def generate_chunk(k: int, index: int, start: int, n: int) -> pa.Table:
    rng = np.random.default_rng([GENERATOR_VERSION, k, index])
    p = label_probabilities(k)
    actual = rng.random((n, k), dtype=np.float32) < p
    found = actual & (rng.random((n, k), dtype=np.float32) < P_FOUND)
    extra = ~actual & (rng.random((n, k), dtype=np.float32) < MEAN_EXTRA * p / p.sum())
    predicted = found | extra
    confidence = np.where(found, rng.beta(5.0, 1.5, (n, k)), rng.beta(2.0, 3.0, (n, k)))
    names = pa.array(label_names(k), pa.string())

    def lists(present: np.ndarray, values: pa.Array) -> pa.Array:
        offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int64)
        return pa.LargeListArray.from_arrays(pa.array(offsets), values)

    _, actual_codes = np.nonzero(actual)
    _, predicted_codes = np.nonzero(predicted)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_WEIGHTS).astype(np.int32)
    return pa.table({
        "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "actual": lists(actual, names.take(pa.array(actual_codes.astype(np.int32)))),
        "predicted": lists(predicted, names.take(pa.array(predicted_codes.astype(np.int32)))),
        "confidence": lists(predicted, pa.array(confidence[predicted].astype(np.float32))),
        "channel": pa.DictionaryArray.from_arrays(pa.array(channel),
                                                  pa.array(CHANNELS, pa.string())),
    })


def prepare(rows: int, k: int, directory: Path) -> Path:
    """The Parquet file and the store under ``directory`` (reused when present);
    returns the store's path."""
    directory.mkdir(parents=True, exist_ok=True)
    parquet = directory / "tags.parquet"
    store = directory / "store"
    if not parquet.exists():
        log(f"generating {human_count(rows)} rows x {k} labels -> {parquet}")
        started = time.perf_counter()
        partial = parquet.with_suffix(".partial")
        writer = None
        for index, first in enumerate(range(0, rows, CHUNK_ROWS)):
            table = generate_chunk(k, index, first, min(CHUNK_ROWS, rows - first))
            writer = writer or pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
        partial.rename(parquet)
        log(f"  generated in {time.perf_counter() - started:.1f} s")
    if not (store / "catalog.sqlite").exists() or not SplitStore(store).catalog.split(
        MODEL, RUN, SPLIT
    ):
        log(f"ingesting -> {store}")
        options = IngestOptions(task="multilabel", labels=label_names(k), replace=True)
        log(f"  {ingest_file(store, parquet, MODEL, RUN, SPLIT, options)}")
    return store


def load_split(store: Path) -> SplitData:
    """The split as the server loads it: memory-mapped, read-only arrays."""
    split_store = SplitStore(store)
    info = split_store.catalog.split(MODEL, RUN, SPLIT)
    assert info is not None
    return split_store.load(info)


# --- engine ------------------------------------------------------------------


def time_engine(data: SplitData, repeats: int) -> tuple[list[tuple[str, Timing]], float]:
    """The engine's scenarios, and the seconds the index took to build."""
    sets, k = data.columns, data.n_labels
    assert isinstance(sets, MultilabelColumns)
    email = pc.equal(data.metadata.column("channel").cast(pa.string()), "email")
    mask = email.to_numpy(zero_copy_only=False)
    mask.flags.writeable = False
    some = np.arange(0, k, 5)  # a class filter of every fifth label
    fresh = Thresholds()
    # Compiled (or loaded from Numba's cache) before any timing.
    warm(name for name in GROUPS if name.startswith("multilabel.") or name == "select")
    assert multilabel_counts(sets, 0.5, k, matrix=True).summary.total == data.n_rows

    started = time.perf_counter()
    index = LabelSetIndex.build(sets, k)
    build = time.perf_counter() - started
    assert index is not None

    def scan(rows: np.ndarray | None = None, labels: np.ndarray | None = None) -> None:
        multilabel_counts(sets, fresh.next(), k, rows, labels, matrix=True)

    def drill(tests: RowTests, key: np.ndarray) -> None:
        flags = match_rows(sets, 0.5, k, tests)
        select_flagged(flags, confidence_bits(key), True, NO_CURSOR, 50)

    few = max(3, repeats // 3)
    results = [
        ("metrics page from the index, new threshold",
         time_runs(lambda _: index.counts_at(fresh.next()) and None, repeats)),
        ("metrics page by a scan (before the index is built)",
         time_runs(lambda _: scan(), repeats)),
        ("  the same with a row filter (channel = email, 40%)",
         time_runs(lambda _: scan(mask), repeats)),
        (f"  the same with a class filter ({len(some)} labels)",
         time_runs(lambda _: scan(labels=some), repeats)),
        ("index build (once per split, in the background)", Timing((build,))),
        ("101-point curve from the index",
         time_runs(lambda _: index.threshold_counts(grid(101)) and None, repeats)),
        ("101-point curve by a scan (row or class filter)",
         time_runs(lambda _: multilabel_threshold_counts(sets, grid(101), k) and None, few)),
        ("AP + ROC AUC, all labels (then kept with the split)",
         time_runs(lambda _: rank_label_sets(sets, np.arange(k), k) and None, few)),
        ("drill-down: a label's FP, first page (a scan)", time_runs(
            lambda _: drill(RowTests(actual_lacks=0, predicted_has=0),
                            label_confidence(sets, 0)), few)),
        ("drill-down: INCORRECT rows, first page (a scan)", time_runs(
            lambda _: drill(RowTests(exact=False), top_confidence(sets, 0.5)), few)),
    ]
    return results, build


# --- HTTP --------------------------------------------------------------------


def time_http(store: Path, k: int, repeats: int, build: float
              ) -> tuple[list[tuple[str, Timing]], dict]:
    rows: list[tuple[str, Timing]] = []
    some = [name for i, name in enumerate(label_names(k)) if i % 5 == 0]
    with serving(store) as (server, client):
        fresh = Thresholds()
        cold, first = client.post_timed(PAGE_QUERY, split_vars(fresh.next()))
        rows.append(("first query after start (loads the split, scans)", Timing((cold,))))
        # That query started the index build; wait it out before timing warm.
        time.sleep(max(5.0, 3 * build))
        rows.append(("metrics page, new threshold (index)", page(client, fresh, None, repeats)))
        rows.append(("  with a row filter (channel = email; a scan)",
                     page(client, fresh, EMAIL_FILTER, repeats)))
        rows.append((f"  with a class filter ({len(some)} labels; a scan)", time_runs(
            lambda _: client.post_timed(PAGE_QUERY_LABELS, split_vars(
                fresh.next(), labels=some))[0], repeats)))
        rows.append(("101-point curve (index)", time_runs(
            lambda _: client.post_timed(CURVE_QUERY, split_vars(0.5))[0], repeats)))
        rows.append(("AP + ROC AUC, all labels (first request)", Timing((client.post_timed(
            RANKING_QUERY, split_vars(0.5))[0],))))
        label = label_names(k)[0]
        few = max(3, repeats // 3)
        rows.append(("drill-down: a label's FP, first page", time_runs(
            lambda _: client.post_timed(DRILL_QUERY, split_vars(
                0.5, label=label, after=None))[0], few)))
        cursor = None
        for _ in range(100):  # to page 101 of the same list
            data = client.post(DRILL_QUERY, split_vars(0.5, label=label, after=cursor))
            cursor = metrics_of(data)["label"]["rows"]["pageInfo"]["endCursor"] or cursor
        rows.append(("  page 101", time_runs(lambda _: client.post_timed(
            DRILL_QUERY, split_vars(0.5, label=label, after=cursor))[0], few)))
        memory = server.memory()
    return rows, {"first": metrics_of(first), "memory": memory}


def page(client: Client, fresh: Thresholds, where: list | None, repeats: int) -> Timing:
    return time_runs(lambda _: client.post_timed(PAGE_QUERY, split_vars(fresh.next(), where))[0],
                     repeats)


# --- scikit-learn --------------------------------------------------------------


def indicators(data: SplitData, n: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Y and P (kept at ``threshold``) of the first ``n`` rows, dense uint8 (n, K)."""
    sets, k = data.columns, data.n_labels
    assert isinstance(sets, MultilabelColumns)
    y = np.zeros((n, k), dtype=np.uint8)
    p = np.zeros((n, k), dtype=np.uint8)
    end = int(sets.actual_offsets[n])
    rows = np.repeat(np.arange(n), np.diff(sets.actual_offsets[: n + 1]))
    y[rows, sets.actual_codes[:end]] = 1
    end = int(sets.predicted_offsets[n])
    rows = np.repeat(np.arange(n), np.diff(sets.predicted_offsets[: n + 1]))
    kept = sets.predicted_confidence[:end] >= np.float32(threshold)
    p[rows[kept], sets.predicted_codes[:end][kept]] = 1
    return y, p


def time_sklearn(data: SplitData, n: int, repeats: int) -> tuple[Timing, float, bool]:
    """scikit-learn's multilabel page on the first ``n`` rows at t = 0.5: its
    timing, the seconds to build the indicator matrices, and whether it agrees
    with the engine on those rows."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import accuracy_score, hamming_loss, precision_recall_fscore_support

    started = time.perf_counter()
    y, p = indicators(data, n, 0.5)
    binarize = time.perf_counter() - started
    answer: dict = {}

    def run(_: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            answer["per"] = precision_recall_fscore_support(y, p, average=None)
            answer["micro"] = precision_recall_fscore_support(y, p, average="micro")
            precision_recall_fscore_support(y, p, average="macro")
            answer["hamming"] = hamming_loss(y, p)
            answer["subset"] = accuracy_score(y, p)

    timing = time_runs(run, repeats)
    mask = np.zeros(data.n_rows, dtype=bool)
    mask[:n] = True
    ours = multilabel_counts(data.columns, 0.5, data.n_labels, mask)
    c = ours.label_counts()
    agree = (
        np.array_equal(c.tp + c.fn, answer["per"][3])
        and np.isclose(1 - ours.summary.hamming_score, answer["hamming"])
        and np.isclose(ours.summary.subset_accuracy, answer["subset"])
    )
    return timing, binarize, bool(agree)


# --- report --------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--sklearn-rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None,
                        help="where the Parquet file and the store live (default: under /tmp)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    directory = args.data or Path(
        f"/tmp/evalql-bench-multilabel-{args.rows}x{args.labels}-v{GENERATOR_VERSION}"
    )
    store = prepare(args.rows, args.labels, directory)
    print_machine()
    data = load_split(store)
    sets = data.columns
    assert isinstance(sets, MultilabelColumns)
    n = data.n_rows
    print(f"Data: {human_count(n)} rows x {data.n_labels} labels, "
          f"{len(sets.actual_codes) / n:.2f} actual and {len(sets.predicted_codes) / n:.2f} "
          f"predicted labels a row; CSR columns {sets.nbytes / 1e6:.0f} MB; store {store}\n")

    log("timing the engine")
    engine, build = time_engine(data, args.repeats)
    log("timing HTTP")
    http, extra = time_http(store, data.n_labels, args.repeats, build)
    sample = min(args.sklearn_rows, n)
    log(f"timing scikit-learn on {human_count(sample)} rows")
    sk, binarize, agree = time_sklearn(data, sample, max(3, args.repeats // 3))
    scale = n / sample

    sk_full = sk.median * scale

    def table(rows: list[tuple[str, Timing]]) -> str:
        return markdown_table(["scenario", "median", "p95"], [
            [name, fmt_seconds(t.median), fmt_seconds(t.p95) if len(t.samples) > 1 else "—"]
            for name, t in rows
        ])

    print(f"Engine, warm (median of {args.repeats}, or of {max(3, args.repeats // 3)} for the "
          "slower lines; single samples have no p95):\n")
    print(table(engine))
    print("\nHTTP GraphQL (evalql serve, one keep-alive connection; same medians):\n")
    print(table(http))
    scaled = "" if sample == n else f", scaled ×{scale:g} from {human_count(sample)} rows"
    print(f"\nThe metrics page against scikit-learn at t = 0.5 (precision_recall_fscore_support "
          f"per label, micro and macro + hamming_loss + accuracy_score on dense indicator "
          f"matrices{scaled}; {'agrees' if agree else 'DISAGREES'} with the engine on those "
          "rows):\n")
    target = 0.200
    compared = [
        ("engine: page from the index", engine[0][1].median),
        ("engine: page by a scan", engine[1][1].median),
        ("HTTP: page from the index", http[1][1].median),
        ("HTTP: page with a row filter (a scan)", http[2][1].median),
    ]
    print(markdown_table(
        ["", "time", "vs scikit-learn", f"target ≤ {fmt_seconds(target)}"],
        [
            ["scikit-learn" + (f" (measured on {human_count(sample)} rows: "
                               f"{fmt_seconds(sk.median)})" if sample != n else ""),
             fmt_seconds(sk_full), "1×", "—"],
            ["  + building the indicator matrices (not in the time above)",
             fmt_seconds(binarize * scale), "—", "—"],
            *[[name, fmt_seconds(t), fmt_ratio(sk_full / t), "met" if t <= target else "MISSED"]
              for name, t in compared],
        ],
    ))
    memory = extra["memory"]
    print(f"\nServer memory after the run: {memory.get('VmRSS', 0) / 1e6:.0f} MB resident "
          f"(peak {memory.get('VmHWM', 0) / 1e6:.0f} MB) for {sets.nbytes / 1e6:.0f} MB of "
          "label columns.")


if __name__ == "__main__":
    main()
