"""The Dask backend (api/backends/dask.py) answers as the local engine does.

One LocalCluster for the module (2 worker processes on loopback, one thread
each): starting it takes seconds, so examples are few and small, and the
fragments are tiny (tens of rows) so every query crosses fragment
boundaries. Each query is asked twice of one app, once with the backend
uninstalled (in process) and once installed, and the two JSON answers must
be equal. Skipped with one line when dask is not installed or the cluster
cannot start.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from evalql.api import backends
from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install evalql[dask])"
)

FRAGMENT_ROWS = 97  # the 1,000-row split is 11 fragments
SMALL_FRAGMENT_ROWS = 13  # a generated split (up to 120 rows) is up to 10
LABELS = ("A", "B", "C", "D")

METRICS = """
  total predicted correct coverage accuracy selectiveAccuracy
  precision(average: MACRO) recall(average: MICRO) f1(average: WEIGHTED)
  macroF1: f1 fBeta(beta: 0.5) balancedAccuracy matthewsCorrcoef cohenKappa
  accuracyInterval { low high }
  confusionMatrix { labels counts }
  perLabel { label precision recall accuracy support predicted tp fp fn tn specificity averagePrecision rocAuc
             falsePositiveRate recallInterval { low high } }
  labelDistribution { label actual predicted }
  confidenceHistogram(bins: 7) { low high count correct }
  curve(points: 6) { threshold coverage accuracy selectiveAccuracy precision recall }
  labelCurve: curve(label: "A", points: 4) { threshold precision recall }
  meanAveragePrecision
  thresholdForPrecision(label: "A", minPrecision: 0.5) { threshold precision recall coverage }
  thresholdForRecall(label: "C", minRecall: 0.3) { threshold precision recall }
  byChannel: breakdown(column: "channel") { key count isNull
    metrics { accuracy confusionMatrix { counts } } }
  byLength: breakdown(column: "length", bins: 3) { key low high count isNull
    metrics { total correct f1 } }
  calibrationSource expectedCalibrationError ece7: expectedCalibrationError(bins: 7)
  calibrationCurve(bins: 6) { low high meanConfidence accuracy count }
  insights { kind severity labels message value }
"""

ROWS = """rows(outcome: %s, orderBy: %s, first: %d, after: %s) {
  totalCount edges { cursor node { id actual predicted confidence } } pageInfo { hasNextPage endCursor } }"""


def table_of(actual: list[int], predicted: list[int], confidence: list[float],
             channel: list[str]) -> pa.Table:
    names = np.array([*LABELS, None], dtype=object)
    n = len(actual)
    conf = [None if p == len(LABELS) else c for p, c in zip(predicted, confidence, strict=True)]
    return pa.table({
        "id": [f"r{i:05d}" for i in range(n)],
        "actual": pa.array(names[np.array(actual, dtype=np.int64)], pa.string()),
        "predicted": pa.array(names[np.array(predicted, dtype=np.int64)], pa.string()),
        "confidence": pa.array(conf, pa.float64()),
        "channel": pa.array(channel, pa.string()),
        # A number with nulls, for breakdowns by bin: every seventh row has none.
        "length": pa.array([None if i % 7 == 3 else (i * 37) % 101 for i in range(n)],
                           pa.int64()),
    })


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    # Dask's own warnings (ports, deprecations) are not this test's to fail on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            local = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, memory_limit="768MiB", silence_logs=50,
            )
            client = distributed.Client(local)
        except Exception as error:  # noqa: BLE001 - any reason to skip, said in one line
            pytest.skip(f"a Dask LocalCluster cannot start here: {type(error).__name__}: {error}")
        try:
            yield local, client
        finally:
            client.close()
            local.close()


@pytest.fixture(scope="module")
def app(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any]]:
    from evalql.api.backends.dask import DaskBackend

    root: Path = tmp_path_factory.mktemp("dask")
    rng = np.random.default_rng(5)
    n = 1_000
    actual = rng.integers(0, len(LABELS) + 1, n)
    predicted = np.where(rng.random(n) < 0.6, actual, rng.integers(0, len(LABELS) + 1, n))
    confidence = np.round(rng.random(n), 2)  # ties across fragments
    channel = rng.choice(["chat", "email"], n)
    table = table_of(actual.tolist(), predicted.tolist(), confidence.tolist(), channel.tolist())
    ingest_table(root, table, "m", "v1", "big", IngestOptions(labels=LABELS), source="big")
    with TestClient(create_app(root)) as client:
        store = client.app.state.store
        backend = DaskBackend(cluster[1], store, fragment_rows=FRAGMENT_ROWS, min_rows=0)
        small = DaskBackend(cluster[1], store, fragment_rows=SMALL_FRAGMENT_ROWS, min_rows=0,
                            fan_in=3)  # merges of merges
        yield client, backend, small
    backends.uninstall(root)


def ask(client: TestClient, query: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()


def both(app: tuple[TestClient, Any, Any], query: str,
         backend: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer in process, then on the cluster."""
    client, backend = app[0], backend or app[1]
    root = client.app.state.store.root
    backends.uninstall(root)
    local = ask(client, query)
    backends.install(root, backend)
    try:
        remote = ask(client, query)
    finally:
        backends.uninstall(root)
    assert "errors" not in local, local
    return local, remote


def metrics_query(split: str, threshold: float, where: str = "null", labels: str = "null") -> str:
    return """{ model(name: "m") { run(name: "v1") { split(name: "%s") {
      metrics(threshold: %s, where: %s, labels: %s) { %s
        firstPage: %s
        fp: label(name: "B") { rows(outcome: FP, first: 3) { totalCount edges { cursor } } }
      } } } } }""" % (split, threshold, where, labels, METRICS,
                      ROWS % ("INCORRECT", "CONFIDENCE_DESC", 4, "null"))


def test_the_backend_is_used(app: tuple[TestClient, Any, Any]) -> None:
    client, backend, _ = app
    local, remote = both(app, metrics_query("big", 0.5))
    assert remote == local
    split = client.app.state.store.catalog.split("m", "v1", "big")
    assert len(backend.fragments(split)) == -(-1_000 // FRAGMENT_ROWS)  # loaded, and kept
    assert backend.bytes_moved > 0 and backend.merges > 0
    # Another backend cutting the same split in other fragments, on the same
    # cluster: its fragments are its own.
    query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
      metrics(threshold: 0.5) { total correct confusionMatrix { counts } %s } } } } }""" % (
        ROWS % ("null", "CONFIDENCE_DESC", 7, "null"))
    local, remote = both(app, query, app[2])
    assert remote == local


@pytest.mark.parametrize("where", ['[{column: "channel", in: ["chat"]}]', "null"])
@pytest.mark.parametrize("labels", ['["A", "C"]', "null"])
def test_metrics_equal_on_a_split_of_many_fragments(
    app: tuple[TestClient, Any, Any], where: str, labels: str
) -> None:
    for threshold in (0.0, 0.37, 0.9):
        local, remote = both(app, metrics_query("big", threshold, where, labels))
        assert remote == local


@pytest.mark.parametrize("order", ["CONFIDENCE_DESC", "CONFIDENCE_ASC", "ID"])
@pytest.mark.parametrize("outcome", ["null", "CORRECT", "ABSTAINED"])
def test_pages_across_fragment_boundaries(
    app: tuple[TestClient, Any, Any], order: str, outcome: str
) -> None:
    """Every page, by cursors, equal to the local page; together every matching row once."""
    after, seen = "null", []
    for _ in range(100):
        query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
          metrics(threshold: 0.4, where: [{column: "channel", in: ["email"]}]) { %s } } } } }""" % (
            ROWS % (outcome, order, 45, after))
        local, remote = both(app, query)
        assert remote == local
        page = remote["data"]["model"]["run"]["split"]["metrics"]["rows"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = '"%s"' % page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]


cells = st.integers(0, len(LABELS))


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(cells, cells, st.integers(0, 20).map(lambda c: c / 20),
                  st.sampled_from(["chat", "email"])),
        min_size=1, max_size=120,
    ),
    threshold=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
)
def test_equal_on_generated_splits(
    app: tuple[TestClient, Any, Any], rows: list[tuple[int, int, float, str]], threshold: float
) -> None:
    root = app[0].app.state.store.root
    actual, predicted, confidence, channel = (list(c) for c in zip(*rows, strict=True))
    table = table_of(actual, predicted, confidence, channel)
    ingest_table(root, table, "m", "v1", "generated", IngestOptions(labels=LABELS, replace=True),
                 source="generated")
    for where in ("null", '[{column: "channel", in: ["chat"]}]'):
        local, remote = both(app, metrics_query("generated", threshold, where), app[2])
        assert remote == local


def test_a_worker_killed_mid_query(cluster: Any, app: tuple[TestClient, Any, Any]) -> None:
    """Killing a worker while queries run gives the local answer (Dask loads the
    lost fragments again and reruns the tasks) or DATA_UNAVAILABLE, never
    another number."""
    kill_during(cluster, app, metrics_query("big", 0.3, '[{column: "channel", in: ["chat"]}]'))


def kill_during(cluster: Any, app: tuple[TestClient, Any, Any], query: str) -> None:
    """Ask ``query`` three times on the cluster while one worker is killed:
    each answer is the local one or DATA_UNAVAILABLE, and the next the local one."""
    local_cluster, dask_client = cluster
    client, backend, _ = app
    local, _ = both(app, query)
    root = client.app.state.store.root
    backends.install(root, backend)
    answers: list[dict[str, Any]] = []

    def run() -> None:
        answers.extend(ask(client, query) for _ in range(3))

    try:
        asking = threading.Thread(target=run)
        asking.start()
        time.sleep(0.01)
        pids = dask_client.run(os.getpid)  # the cluster's worker processes, ours
        os.kill(sorted(pids.values())[0], signal.SIGKILL)
        asking.join(timeout=120)
        assert not asking.is_alive()
        for answer in answers:
            if "errors" in answer:
                codes = {e["extensions"]["code"] for e in answer["errors"]}
                assert codes == {"DATA_UNAVAILABLE"}, answer
            else:
                assert answer == local
        # The lost fragments are loaded again (on the worker left, or on the
        # one the nanny starts), and the answer is the same.
        assert ask(client, query) == local
    finally:
        backends.uninstall(root)


def test_serve_dask_installs_the_backend(cluster: Any, tmp_path: Path) -> None:
    """``evalql serve --dask ADDRESS`` connects and installs the backend for its store;
    a bad fragment size is refused by the parser."""
    from evalql.api import cli
    from evalql.storage.datasets import SplitStore

    ingest_table(tmp_path, table_of([0, 1], [0, 4], [0.5, 0.5], ["a", "b"]), "m", "v1", "s",
                 IngestOptions(labels=LABELS), source="s")
    store = SplitStore(tmp_path)
    args = cli.parser().parse_args(["serve", "--dask", cluster[0].scheduler_address,
                                    "--dask-fragment-rows", "1,000", "--dask-min-rows", "2"])
    try:
        cli._install_dask(args, store)
        backend = backends.for_split(store, store.catalog.split("m", "v1", "s"))
        assert backend is not None and backend.fragment_rows == 1_000
    finally:
        installed = backends.uninstall(tmp_path)
        if installed is not None:
            installed.close()
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["serve", "--dask-fragment-rows", "0"])


def test_labels_too_many_for_a_matrix(
    app: tuple[TestClient, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the dense-matrix bound the view counts label totals (one scan, O(K)):
    on the cluster, per fragment, added up."""
    from evalql.api import limits

    monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 20)  # 4 labels + None: 25 cells
    query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
      metrics(threshold: 0.45, where: [{column: "channel", in: ["email"]}]) {
        total predicted correct accuracy coverage f1(average: MICRO) precision
        perLabel { label tp fp fn tn support predicted }
        breakdown(column: "length", bins: 2) { key count metrics { total accuracy } }
        labelDistribution { label actual predicted }
        confidenceHistogram(bins: 4) { count correct }
        curve(points: 3) { threshold accuracy recall }
        %s } } } } }""" % (ROWS % ("INCORRECT", "CONFIDENCE_ASC", 5, "null"))
    merges = app[1].merges
    local, remote = both(app, query)
    assert remote == local
    assert app[1].merges >= merges + 4  # totals, histogram, curve and page: on the cluster


def test_a_missing_split_file_is_data_unavailable(app: tuple[TestClient, Any, Any]) -> None:
    """A fragment that cannot be read is DATA_UNAVAILABLE for its split, as in process."""
    client, backend, _ = app
    store = client.app.state.store
    ingest_table(store.root, table_of([0, 1, 2], [0, 1, 4], [0.5, 0.7, 0.5], ["a"] * 3), "m",
                 "v1", "gone", IngestOptions(labels=LABELS), source="gone")
    split = store.catalog.split("m", "v1", "gone")
    (Path(store.root) / split.path).unlink()
    backends.install(store.root, backend)
    try:
        answer = ask(client, """{ model(name: "m") { run(name: "v1") { split(name: "gone") {
          metrics { total confusionMatrix { counts } } } } } }""")
    finally:
        backends.uninstall(store.root)
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"DATA_UNAVAILABLE"}, answer
    assert "gone" in answer["errors"][0]["message"]
    assert ("m", "v1", "gone") not in backend._loaded  # the next query tries again


def test_breakdowns_are_counted_on_the_cluster(app: tuple[TestClient, Any, Any]) -> None:
    """By value (one pass) and by bin (the range, then the bins), every slice's
    matrix from the fragments, under a filter and a class filter."""
    query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
      metrics(threshold: 0.35, labels: ["B", "D"], where: [{column: "length", gte: 20}]) {
        byChannel: breakdown(column: "channel") { key count isNull
          metrics { total accuracy confusionMatrix { counts } perLabel { tp fp } } }
        byLength: breakdown(column: "length", bins: 5) { key low high count isNull
          metrics { total correct precision } } } } } } }"""
    merges = app[1].merges
    local, remote = both(app, query)
    assert remote == local
    assert app[1].merges >= merges + 3  # values; the range, then the bins


def test_average_precision_and_auc_are_merged_from_fragments(
    app: tuple[TestClient, Any, Any],
) -> None:
    """A split without scores ranks each label by its predictions' confidence:
    each fragment's runs of distinct scores, merged by score, summed in the
    engine's order, so the floats are the same."""
    query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
      metrics(where: [{column: "channel", in: ["email"]}]) { meanAveragePrecision
        perLabel { label averagePrecision rocAuc } } } } } }"""
    merges = app[1].merges
    local, remote = both(app, query)
    assert remote == local
    assert app[1].merges == merges + 2  # perLabel's counts, and one ranking of every label


def test_calibration_from_confidences_is_summed_on_the_cluster(
    app: tuple[TestClient, Any, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reliability diagram's bins (rows, right ones, exact sums of
    confidences) from each fragment, added up: the same floats as in process,
    and the server never reads the split for them."""
    client = app[0]
    query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
      metrics(threshold: 0.2, labels: ["A", "B", "D"], where: [{column: "length", lt: 60}]) {
        expectedCalibrationError(bins: 9) calibrationCurve(bins: 9) { low meanConfidence accuracy count }
        } } } } }"""
    local, _ = both(app, query)
    store = client.app.state.store
    loads: list[object] = []
    read = store.load
    monkeypatch.setattr(store, "load", lambda *a, **k: loads.append(a) or read(*a, **k))
    merges = app[1].merges
    backends.install(store.root, app[1])
    try:
        assert ask(client, query) == local
    finally:
        backends.uninstall(store.root)
    assert app[1].merges == merges + 1  # one diagram for both fields
    assert loads == []


COMPARE = """{ compare(baseline: {model: "m", run: "v1", split: "%s"},
                  candidate: {model: "m", run: "v1", split: "%s"},
                  threshold: %s, labels: %s, where: %s) {
  fixed regressed mcnemarPValue
  baseline { accuracy } candidate { accuracy }
  perLabel { label deltaPrecision deltaRecall deltaF1 deltaSupport }
  rows(change: FIXED, first: 5) { totalCount nodes { id baseline { id } } }
} }"""


def compare_both(app: tuple[TestClient, Any, Any], base: str, cand: str, threshold: float,
                 labels: str = "null", where: str = "null",
                 backend: Any = None) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The compare in process and on the cluster, and the merges it took there."""
    backend = backend or app[1]
    merges = backend.merges
    local, remote = both(app, COMPARE % (base, cand, threshold, labels, where), backend)
    return local, remote, backend.merges - merges


def ingest_rows(root: Path, name: str, ids: list[str], actual: list[int], predicted: list[int],
                confidence: list[float], channel: list[str]) -> None:
    table = table_of(actual, predicted, confidence, channel)
    table = table.set_column(0, "id", pa.array(ids, pa.string()))
    ingest_table(root, table, "m", "v1", name, IngestOptions(labels=LABELS, replace=True),
                 source=name)


def test_compare_of_runs_over_the_same_rows_is_counted_on_the_cluster(
    app: tuple[TestClient, Any, Any],
) -> None:
    """Two 1,000-row runs with the same ids in the same order: each fragment
    pair's fixed and regressed rows on the cluster, added up, as the join in
    process counts them; ids in another order, or one id changed, make the
    fragments' digests differ and the server joins on id."""
    client, backend, _ = app
    root = client.app.state.store.root
    rng = np.random.default_rng(11)
    n = 1_000
    ids = [f"r{i:05d}" for i in range(n)]  # the ids of "big"
    actual = rng.integers(0, len(LABELS) + 1, n)
    predicted = np.where(rng.random(n) < 0.7, actual, rng.integers(0, len(LABELS) + 1, n))
    columns = (actual.tolist(), predicted.tolist(), np.round(rng.random(n), 2).tolist(),
               rng.choice(["chat", "email"], n).tolist())
    ingest_rows(root, "same", ids, *columns)
    shuffled = list(rng.permutation(n))
    ingest_rows(root, "shuffled", [ids[i] for i in shuffled],
                *([c[i] for i in shuffled] for c in columns))
    ingest_rows(root, "renamed", [*ids[:500], "other", *ids[501:]], *columns)
    for threshold, labels, where in ((0.6, '["A", "C"]', '[{column: "channel", in: ["chat"]}]'),
                                     (0.3, "null", "null")):
        local, remote, on_cluster = compare_both(app, "big", "same", threshold, labels, where)
        assert remote == local
        assert sum(remote["data"]["compare"][k] for k in ("fixed", "regressed")) > 0
    for other in ("shuffled", "renamed"):
        local, remote, merges = compare_both(app, "big", other, 0.3)
        assert remote == local
        assert merges == on_cluster - 2  # but the counts and the page: joined here
    assert len(backend._digests) >= 4  # big, same, shuffled, renamed: kept


def test_a_worker_killed_mid_compare(cluster: Any, app: tuple[TestClient, Any, Any]) -> None:
    """A compare on the cluster (verdicts, pairs, digests) keeps the same
    semantics: the local answer or DATA_UNAVAILABLE, never another count."""
    root = app[0].app.state.store.root
    rng = np.random.default_rng(23)
    n = 1_000
    ingest_rows(root, "killed", [f"r{i:05d}" for i in range(n)],
                rng.integers(0, len(LABELS) + 1, n).tolist(),
                rng.integers(0, len(LABELS) + 1, n).tolist(),
                np.round(rng.random(n), 2).tolist(), rng.choice(["chat", "email"], n).tolist())
    kill_during(cluster, app, """{ compare(baseline: {model: "m", run: "v1", split: "big"},
      candidate: {model: "m", run: "v1", split: "killed"}, threshold: 0.4) {
      fixed regressed mcnemarPValue } }""")


@pytest.mark.parametrize(("change", "first"), [("FIXED", 4), ("REGRESSED", 45)])
def test_compare_pages_across_fragment_boundaries(
    app: tuple[TestClient, Any, Any], change: str, first: int
) -> None:
    """Every page of a compare's changed rows, by cursors: positions found
    on the cluster per fragment pair, equal to the join's pages, every
    changed row once."""
    root = app[0].app.state.store.root
    rng = np.random.default_rng(31)
    n = 1_000
    ingest_rows(root, "paged", [f"r{i:05d}" for i in range(n)],
                rng.integers(0, len(LABELS) + 1, n).tolist(),
                rng.integers(0, len(LABELS) + 1, n).tolist(),
                np.round(rng.random(n), 2).tolist(), rng.choice(["chat", "email"], n).tolist())
    after, seen = "null", []
    for _ in range(100):
        query = """{ compare(baseline: {model: "m", run: "v1", split: "big"},
          candidate: {model: "m", run: "v1", split: "paged"}, threshold: 0.4,
          where: [{column: "channel", in: ["email"]}]) {
          rows(change: %s, first: %d, after: %s) { totalCount
            edges { cursor node { id correct baseline { id correct } } }
            pageInfo { hasNextPage endCursor } } } }""" % (change, first, after)
        merges = app[1].merges
        local, remote = both(app, query)
        assert remote == local
        assert app[1].merges >= merges + 2  # the page's positions and the counts
        page = remote["data"]["compare"]["rows"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = '"%s"' % page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] > first  # pages: 2 or more


cmp_rows = st.lists(
    st.tuples(cells, cells, cells, st.integers(0, 20).map(lambda c: c / 20),
              st.sampled_from(["chat", "email"])),
    min_size=1, max_size=60,
)


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=cmp_rows, threshold=st.sampled_from([0.0, 0.5]),
       where=st.sampled_from(["null", '[{column: "channel", in: ["chat"]}]']))
def test_compare_equal_on_generated_runs(
    app: tuple[TestClient, Any, Any], rows: list[tuple[int, int, int, float, str]],
    threshold: float, where: str,
) -> None:
    """Generated runs over the same rows, cut in fragments of 13 rows and merged
    in a tree: the cluster's counts equal the join's."""
    root = app[0].app.state.store.root
    actual, before, after, confidence, channel = (list(c) for c in zip(*rows, strict=True))
    ids = [f"g{i}" for i in range(len(rows))]
    ingest_rows(root, "gen-base", ids, actual, before, confidence, channel)
    ingest_rows(root, "gen-cand", ids, actual, after, confidence[::-1], channel)
    local, remote, merges = compare_both(app, "gen-base", "gen-cand", threshold, where=where,
                                         backend=app[2])
    assert remote == local
    assert merges >= 1


TAGS = ("billing", "bug", "refund", "urgent")
ML_QUERY = """{ model(name: "tags") { run(name: "v1") { split(name: "%s") {
  metrics(threshold: %s, labels: %s, where: %s) {
    total predicted correct coverage accuracy selectiveAccuracy hammingScore subsetAccuracy
    macro: f1 micro: f1(average: MICRO) weighted: precision(average: WEIGHTED)
    perLabel { label precision recall f1 support tp fp fn tn }
    confusionMatrix { labels counts }
    curve(points: 5) { threshold coverage accuracy precision recall }
    labelCurve: curve(label: "bug", points: 4) { threshold precision recall }
    confidenceHistogram(bins: 6) { low high count correct }
    labelDistribution { label actual predicted }
} } } } }"""


def ingest_label_sets(root: Path, name: str, actual: list[list[int]], predicted: list[list[int]],
                      confidence: list[list[float]], channel: list[str]) -> None:
    table = pa.table({
        "id": [f"t{i}" for i in range(len(actual))],
        "actual": [[TAGS[c] for c in row] for row in actual],
        "predicted": [[TAGS[c] for c in row] for row in predicted],
        "confidence": confidence,
        "channel": channel,
    })
    ingest_table(root, table, "tags", "v1", name,
                 IngestOptions(task="multilabel", labels=TAGS, replace=True), source=name)


def test_multilabel_counts_curves_and_histogram_on_the_cluster(
    app: tuple[TestClient, Any, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A multilabel split's fragments are row ranges of its CSR lists: counts
    at a threshold, curves, the pair histogram and the rows without a label
    summed per fragment, equal to the answers in process, with a class
    filter and a row filter; the server reads no split for them."""
    root = app[0].app.state.store.root
    rng = np.random.default_rng(17)
    n = 300
    actual = [sorted(rng.choice(4, rng.integers(0, 3), replace=False).tolist()) for _ in range(n)]
    predicted = [rng.choice(4, rng.integers(0, 4), replace=False).tolist() for _ in range(n)]
    confidence = [np.round(rng.random(len(p)), 2).tolist() for p in predicted]
    ingest_label_sets(root, "ml", actual, predicted, confidence,
                      rng.choice(["chat", "email"], n).tolist())
    for threshold, labels, where in ((0.5, "null", "null"),
                                     (0.3, '["urgent", "bug"]',
                                      '[{column: "channel", in: ["chat"]}]')):
        merges = app[1].merges
        local, remote = both(app, ML_QUERY % ("ml", threshold, labels, where))
        assert remote == local
        assert app[1].merges >= merges + 4  # counts, curves, histogram, unlabeled rows
    local = both(app, ML_QUERY % ("ml", 0.5, "null", "null"))[0]
    store = app[0].app.state.store
    loads: list[object] = []
    read = store.load
    monkeypatch.setattr(store, "load", lambda *a, **k: loads.append(a) or read(*a, **k))
    backends.install(store.root, app[1])
    try:
        assert ask(app[0], ML_QUERY % ("ml", 0.5, "null", "null")) == local
    finally:
        backends.uninstall(store.root)
    assert loads == []


label_sets = st.lists(st.integers(0, 3), max_size=3, unique=True)


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(label_sets, label_sets, st.integers(0, 20),
                            st.sampled_from(["chat", "email"])), min_size=1, max_size=60),
    threshold=st.sampled_from([0.0, 0.5, 1.0]),
    where=st.sampled_from(["null", '[{column: "channel", in: ["chat"]}]']),
)
def test_multilabel_equal_on_generated_splits(
    app: tuple[TestClient, Any, Any], rows: list[tuple[list[int], list[int], int, str]],
    threshold: float, where: str,
) -> None:
    root = app[0].app.state.store.root
    actual, predicted, step, channel = (list(c) for c in zip(*rows, strict=True))
    confidence = [[(s + 3 * j) % 21 / 20 for j in range(len(p))]
                  for s, p in zip(step, predicted, strict=True)]
    ingest_label_sets(root, "ml-generated", actual, predicted, confidence, channel)
    local, remote = both(app, ML_QUERY % ("ml-generated", threshold, '["bug", "billing"]', where),
                         app[2])
    assert remote == local


@pytest.mark.parametrize("where", ['[{column: "nope", in: ["x"]}]', '[{column: "channel", gt: 3}]'])
def test_a_bad_filter_keeps_the_fragments(app: tuple[TestClient, Any, Any], where: str) -> None:
    """A filter the workers refuse is the user's BAD_USER_INPUT, as in process;
    the split's fragments are fine and stay loaded."""
    client, backend, _ = app
    store = client.app.state.store
    split = store.catalog.split("m", "v1", "big")
    futures = backend.fragments(split)
    backends.install(store.root, backend)
    try:
        answer = ask(client, """{ model(name: "m") { run(name: "v1") { split(name: "big") {
          metrics(threshold: 0.5, where: %s) { total } } } } }""" % where)
    finally:
        backends.uninstall(store.root)
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"BAD_USER_INPUT"}, answer
    assert ("m", "v1", "big") in backend._loaded
    assert backend._loaded[("m", "v1", "big")][1].futures is futures


@pytest.mark.parametrize("where", ['[{column: "channel", in: ["chat"]}]', "null"])
def test_scans_on_the_cluster_count_against_the_rows_budget(
    app: tuple[TestClient, Any, Any], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A scan of the split's fragments reads all its rows, as a scan in process
    does: past ``MAX_ROWS_SCANNED`` it is refused with COST_LIMIT before it runs."""
    from evalql.api import limits

    monkeypatch.setattr(limits, "MAX_ROWS_SCANNED", 10)
    client, backend = app[0], app[1]
    root = client.app.state.store.root
    query = """{ model(name: "m") { run(name: "v1") { split(name: "big") {
      metrics(threshold: 0.45, where: %s) { total curve(points: 3) { accuracy } } } } } }""" % where
    merges = backend.merges
    backends.install(root, backend)
    try:
        answer = ask(client, query)
    finally:
        backends.uninstall(root)
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"COST_LIMIT"}, answer
    assert backend.merges == merges  # refused before any task ran
