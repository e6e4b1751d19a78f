"""A full metrics page through GraphQL over HTTP, against scikit-learn on the same arrays.

Generates the reference data (default 10M rows x 100 labels, Zipf-skewed, with
confidence; cached under bench/data/), ingests it, starts ``evalql serve`` and
times the page — summary, confusion matrix, per-label table — at a new
threshold per request (no cache can answer), without and with a row filter.
scikit-learn's ``confusion_matrix`` + ``precision_recall_fscore_support``
(per label and macro) run on the same arrays at one threshold in the same run,
and the matrices are checked to be equal.

    python bench/metrics_page.py                        # 10M x 100, 20 repeats
    python bench/metrics_page.py --rows 200000 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from common import (
    CHANNELS,
    EMAIL_FILTER,
    PAGE_QUERY,
    Arrays,
    Client,
    Dataset,
    Thresholds,
    Timing,
    fmt_bytes,
    fmt_ratio,
    fmt_seconds,
    load_arrays,
    log,
    markdown_table,
    metrics_of,
    prepare,
    print_machine,
    serving,
    sklearn_page,
    split_file,
    split_vars,
    time_runs,
    warm_sklearn,
)

EMAIL = CHANNELS.index("email")


def time_page(client: Client, thresholds: Thresholds, where: list[dict[str, Any]] | None,
              repeats: int) -> Timing:
    """The page at ``repeats`` new thresholds; each sample is one HTTP round trip."""

    def run(_: int) -> float:
        return client.post_timed(PAGE_QUERY, split_vars(thresholds.next(), where))[0]

    return time_runs(run, repeats)


def time_sklearn(arrays: Arrays, threshold: float, k: int, filtered: bool, repeats: int
                 ) -> tuple[Timing, np.ndarray, dict[str, float]]:
    """scikit-learn's page at ``threshold`` (the row mask, if any, built inside
    the timing); returns the timing, the confusion matrix and each step's
    median seconds."""
    matrix: list[np.ndarray] = []
    parts: list[dict[str, float]] = []

    def run(_: int) -> None:
        mask = arrays.channel == EMAIL if filtered else None
        parts.append({})
        matrix[:] = [sklearn_page(arrays, threshold, k, mask, parts[-1])]

    timing = time_runs(run, repeats)
    steps = {name: float(np.median([p[name] for p in parts])) for name in parts[0]}
    return timing, matrix[0], steps


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20, help="evalql requests per scenario")
    parser.add_argument("--sklearn-repeats", type=int, default=3,
                        help="scikit-learn runs per scenario (each takes seconds at 10M rows)")
    parser.add_argument("--reingest", action="store_true",
                        help="rebuild the store from the cached Parquet file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ds = Dataset(args.rows, args.labels)
    k = ds.labels
    print_machine()
    warm_sklearn()
    prepare(ds, reingest=args.reingest)
    log("reading the arrays back for scikit-learn")
    arrays = load_arrays(ds)
    thresholds = Thresholds()

    log("starting the server")
    with serving(ds.store) as (server, client):
        # The first query loads the split (and whatever is built on first use).
        first, _ = client.post_timed(PAGE_QUERY, split_vars(thresholds.next()))
        client.post(PAGE_QUERY, split_vars(thresholds.next(), EMAIL_FILTER))  # warm the filter path
        log(f"timing the page, {args.repeats} new thresholds each")
        page = time_page(client, thresholds, None, args.repeats)
        page_bytes = client.last_bytes
        filtered = time_page(client, thresholds, EMAIL_FILTER, args.repeats)
        # One more threshold for scikit-learn, and evalql's answers at it.
        check_t = thresholds.next()
        served = {
            where is not None: np.array(metrics_of(client.post(
                PAGE_QUERY, split_vars(check_t, where)))["confusionMatrix"]["counts"])
            for where in (None, EMAIL_FILTER)
        }
        rss = server.memory()["VmRSS"]

    log(f"timing scikit-learn, {args.sklearn_repeats} runs each")
    sk_page, sk_matrix, sk_steps = time_sklearn(arrays, check_t, k, False, args.sklearn_repeats)
    sk_filtered, sk_filtered_matrix, _ = time_sklearn(arrays, check_t, k, True,
                                                      args.sklearn_repeats)
    checks = {
        "no filter": np.array_equal(served[False], sk_matrix),
        "channel = email": np.array_equal(served[True], sk_filtered_matrix),
    }

    email_rows = int(np.count_nonzero(arrays.channel == EMAIL))
    print(f"Dataset: {ds.rows:,} rows x {k} labels (Zipf {1.1} actual labels, "
          f"~80% correct, 2% null actual, 2% null predicted); row filter "
          f"channel = email keeps {email_rows:,} rows.")
    print(f"evalql: {args.repeats} requests per scenario over HTTP (keep-alive), each at a "
          f"threshold never asked before; scikit-learn: {args.sklearn_repeats} runs at "
          f"threshold {check_t}.")
    print()
    headers = ["scenario", "evalql median", "evalql p95", "scikit-learn median",
               "ratio (sklearn / evalql)"]
    rows = [
        ["metrics page, new threshold, no row filter", fmt_seconds(page.median),
         fmt_seconds(page.p95), fmt_seconds(sk_page.median), fmt_ratio(sk_page.median / page.median)],
        ["metrics page, new threshold, channel = email", fmt_seconds(filtered.median),
         fmt_seconds(filtered.p95), fmt_seconds(sk_filtered.median),
         fmt_ratio(sk_filtered.median / filtered.median)],
        ["first query after server start (loads the split)", fmt_seconds(first), "—", "—", "—"],
    ]
    print(markdown_table(headers, rows))
    print()
    columns = split_file(ds).stat().st_size
    print(f"- page answer: {fmt_bytes(page_bytes)} of JSON; server resident memory "
          f"after the runs: {fmt_bytes(rss)} (the split's Arrow file: {fmt_bytes(columns)})")
    steps = ", ".join(f"{name} {fmt_seconds(seconds)}" for name, seconds in sk_steps.items())
    print(f"- scikit-learn's page, step by step (median, no filter): {steps}")
    for name, equal in checks.items():
        print(f"- confusion matrix at t={check_t}, {name}: "
              f"{'equal to' if equal else 'DIFFERENT from'} scikit-learn's")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
