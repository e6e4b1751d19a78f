"""The Dask backend: a large split's scans on a ``dask.distributed`` cluster.

``evalql serve --dask tcp://HOST:PORT`` (or ``EVALQL_DASK``) installs it.
A split (multiclass or multilabel) of at least ``min_rows`` rows is cut
into fragments of ``fragment_rows`` rows (row ranges of the split file).
The first query on the split submits one ``fragments.load_fragment`` task
per fragment; the client keeps those futures, so Dask keeps each fragment (and its threshold
index) in the memory of the worker that loaded it. Every query then submits
one task per fragment with that fragment's future as its argument, so Dask
runs it where the fragment lives (data locality: only the partial result
moves), and a tree of merge tasks on the cluster (``fan_in`` parts each);
the server receives the merged result only.

Failures: a worker that dies mid-query loses its fragments and its running
tasks; the scheduler loads those fragments again elsewhere (it has their
recipe) and reruns the tasks, so the answer is the same. When that fails
too (the task killed ``allowed-failures`` times, the cluster unreachable,
no answer within ``timeout``), the query gets DATA_UNAVAILABLE and the
split's fragments are dropped, to be loaded afresh by the next query. A
partial result is never merged from fewer than all fragments.

Splits smaller than ``min_rows``, and whatever the seam does not cover
(``api.backends``) stay in process.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from distributed import Client, Future, KilledWorker

from evalql.api.backends import (
    DEFAULT_FRAGMENT_ROWS,
    DEFAULT_MIN_ROWS,
    CompareSide,
    fragments,
)
from evalql.api.errors import DataUnavailable
from evalql.engine.calibration import ReliabilityBins
from evalql.engine.curves import ThresholdCounts
from evalql.engine.jit import count_rows
from evalql.engine.metrics import Totals
from evalql.engine.multilabel.columns import filter_codes
from evalql.engine.multilabel.counts import (
    MultilabelCounts,
    MultilabelThresholdCounts,
    package_counts,
)
from evalql.engine.ranking import (
    PrecisionSteps,
    Ranking,
    merge_precision_steps,
    merge_ranking_steps,
    ranking_of_steps,
)
from evalql.engine.select import Page, Predicate, page_of
from evalql.storage.datasets import SplitStore
from evalql.storage.errors import CorruptSplitError, StoreError, StoreIOError
from evalql.storage.filters import Condition
from evalql.storage.model import SplitInfo

# Rows of fragments kept on the cluster; least recently used splits go beyond.
DEFAULT_CLUSTER_ROWS = 2_000_000_000
DEFAULT_TIMEOUT = 120.0
# Partial results merged per task: a tree of merges, each placed by Dask
# where most of its inputs are, so no one worker receives every fragment's.
DEFAULT_FAN_IN = 16

# Splits whose fragments' id digests are kept (16 bytes a fragment).
DIGESTS_KEPT = 64

# What a lost worker, a lost cluster or a late answer raise in the client.
_LOST = (KilledWorker, CancelledError, TimeoutError, OSError)


@dataclass
class _Loaded:
    """A split's fragments on the cluster: one future per fragment."""

    futures: list[Future]
    rows: int


class DaskBackend:
    """Answers a large split's scans with its fragments' merged partial results."""

    def __init__(
        self, client: Client, store: SplitStore, fragment_rows: int = DEFAULT_FRAGMENT_ROWS,
        min_rows: int = DEFAULT_MIN_ROWS, cluster_rows: int = DEFAULT_CLUSTER_ROWS,
        timeout: float = DEFAULT_TIMEOUT, fan_in: int = DEFAULT_FAN_IN,
    ) -> None:
        if fragment_rows < 1:
            raise ValueError(f"fragment rows have to be at least 1, got {fragment_rows}")
        self.client = client
        self.store = store
        self.root = str(Path(store.root).resolve())
        self.fragment_rows = fragment_rows
        self.min_rows = min_rows
        self.cluster_rows = cluster_rows
        self.timeout = timeout
        self.fan_in = max(2, fan_in)
        self._loaded: OrderedDict[tuple[str, str, str], tuple[str, _Loaded]] = OrderedDict()
        self._lock = threading.Lock()
        self._digests: OrderedDict[str, list[bytes]] = OrderedDict()
        # Bytes of partial results moved to merge tasks, and the merges, since
        # start (bench/distributed.py reads them): figures, not bounds.
        self.bytes_moved = 0
        self.merges = 0

    @classmethod
    def connect(cls, address: str, store: SplitStore, **options: Any) -> DaskBackend:
        """A backend on the scheduler at ``address`` (tcp://HOST:PORT)."""
        return cls(Client(address, timeout="30s"), store, **options)

    def close(self) -> None:
        """Release every fragment and disconnect."""
        with self._lock:
            self._loaded.clear()
        self.client.close()

    # --- which splits, and their fragments --------------------------------------

    def handles(self, split: SplitInfo, task: str = "multiclass") -> bool:
        """A split of a ``task`` model, of at least ``min_rows`` rows."""
        model = self.store.catalog.model(split.model)
        return model is not None and model.task == task and split.row_count >= self.min_rows

    def bounds(self, split: SplitInfo) -> list[tuple[int, int]]:
        """The split's fragments as row ranges ``[start, stop)``."""
        n, size = split.row_count, self.fragment_rows
        return [(start, min(start + size, n)) for start in range(0, max(n, 1), size)]

    def fragments(self, split: SplitInfo) -> list[Future]:
        """The futures of the split's fragments, loading them the first time.

        Known by the split's file and version and the model's labels: a
        replaced split (a new version) gets new fragments and its old ones
        are released (Dask frees them once no client holds their futures).
        Each load has a key of its own (a uuid), so a load that failed is
        never answered from the failed task, and two backends cutting one
        split differently never share a key.
        """
        model = self.store.catalog.model(split.model)
        if model is None:
            raise StoreError(f"model {split.model} does not exist")
        names = (split.model, split.run, split.name)
        version = _token(split, model.labels)
        with self._lock:
            found = self._loaded.get(names)
            if found is not None and found[0] == version:
                self._loaded.move_to_end(names)
                return found[1].futures
            futures = [
                self.client.submit(
                    fragments.load_fragment, self.root, split, model.labels, start, stop,
                    model.task,
                    key=f"evalql-fragment-{version}-{start}-{stop}-{uuid.uuid4().hex[:12]}",
                    pure=False,
                )
                for start, stop in self.bounds(split)
            ]
            self._loaded[names] = (version, _Loaded(futures, split.row_count))
            self._loaded.move_to_end(names)
            while (len(self._loaded) > 1
                   and sum(v[1].rows for v in self._loaded.values()) > self.cluster_rows):
                self._loaded.popitem(last=False)  # its futures go: Dask frees the data
            return futures

    def forget(self, split: SplitInfo) -> None:
        """Drop the split's fragments (they failed): the next query loads them again."""
        with self._lock:
            self._loaded.pop((split.model, split.run, split.name), None)

    def _run(self, split: SplitInfo, part: Callable[..., Any], args: tuple[Any, ...],
             merge: Callable[..., Any], merge_args: tuple[Any, ...] = ()) -> Any:
        """``part(fragment, *args)`` on every fragment where it lives, merged on
        the cluster by ``merge(*merge_args, *parts)`` in a tree of ``fan_in``
        parts a merge; the merged result."""
        # Every query on the cluster reads all the split's rows, as a scan in
        # process does: counted against the request's budget (the views call
        # this from Context.run's thread, where the request's meter is set).
        count_rows(split.row_count)
        with self._failures(split):
            parts = [self.client.submit(part, f, *args, pure=False)
                     for f in self.fragments(split)]
            return self._reduce(parts, merge, merge_args)

    def _reduce(self, parts: list[Future], merge: Callable[..., Any],
                merge_args: tuple[Any, ...] = ()) -> Any:
        """The parts merged on the cluster in a tree of ``fan_in`` parts a merge;
        the merged result, received here."""
        moved = len(parts)
        while len(parts) > 1:
            parts = [
                self.client.submit(merge, *merge_args, *parts[i : i + self.fan_in], pure=False)
                for i in range(0, len(parts), self.fan_in)
            ]
            moved += len(parts)
        result = parts[0].result(timeout=self.timeout)
        self.bytes_moved += _moved(result, moved)
        self.merges += 1
        return result

    @contextmanager
    def _failures(self, *splits: SplitInfo) -> Iterator[None]:
        """What a query's failures on the cluster mean for the splits it read."""
        try:
            yield
        except (CorruptSplitError, StoreIOError):
            for split in splits:
                self.forget(split)
            raise  # a missing or damaged file: DATA_UNAVAILABLE, as in process
        except StoreError:
            raise  # the query's (a bad filter): the fragments are fine, keep them
        except _LOST as error:
            for split in splits:
                self.forget(split)
            names = " and ".join("/".join((s.model, s.run, s.name)) for s in splits)
            raise DataUnavailable(
                f"split {names} could not be read on the Dask cluster "
                f"({type(error).__name__}); ask again"
            ) from error

    # --- the partial results the views ask for ----------------------------------

    def confusion_at(
        self, split: SplitInfo, conditions: tuple[Condition, ...],
        thresholds: Sequence[np.float32],
    ) -> list[np.ndarray]:
        """``Backend.confusion_at``: each fragment's counts at every threshold, added up."""
        counts = self._run(split, fragments.confusion_part, (conditions, list(thresholds)),
                           fragments.merge_sums)
        return list(counts)

    def totals(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float
    ) -> Totals:
        """``Backend.totals``: each fragment's label totals, added up."""
        return self._run(split, fragments.totals_part, (conditions, threshold),
                         fragments.merge_totals)

    def curve_counts(
        self, split: SplitInfo, conditions: tuple[Condition, ...], thresholds: np.ndarray
    ) -> ThresholdCounts:
        """``Backend.curve_counts``: each fragment's per-threshold counts, added up."""
        return self._run(split, fragments.curve_part, (conditions, thresholds),
                         fragments.merge_curves)

    def histogram(
        self, split: SplitInfo, conditions: tuple[Condition, ...], edges: np.ndarray,
        actual_ok: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``Backend.histogram``: each fragment's histogram, added up."""
        return self._run(split, fragments.histogram_part, (conditions, edges, actual_ok),
                         fragments.merge_histograms)

    def breakdown_values(
        self, split: SplitInfo, conditions: tuple[Condition, ...], column: str,
        threshold: float, actual_ok: np.ndarray,
    ) -> fragments.ValueParts:
        """``Backend.breakdown_values``: fragments' slices added up by value."""
        return self._run(split, fragments.value_slices_part,
                         (conditions, column, threshold, actual_ok),
                         fragments.merge_value_slices)

    def breakdown_range(
        self, split: SplitInfo, conditions: tuple[Condition, ...], column: str, kind: str,
        actual_ok: np.ndarray,
    ) -> tuple[tuple[float, float] | None, tuple[int, int] | None, int]:
        """``Backend.breakdown_range``: fragments' ranges joined, nulls added up."""
        return self._run(split, fragments.column_range_part,
                         (conditions, column, kind, actual_ok), fragments.merge_column_ranges)

    def breakdown_bins(
        self, split: SplitInfo, conditions: tuple[Condition, ...], column: str, kind: str,
        edges: np.ndarray, threshold: float, actual_ok: np.ndarray, dense: bool,
    ) -> fragments.BinParts:
        """``Backend.breakdown_bins``: fragments' bins added up."""
        return self._run(split, fragments.bin_slices_part,
                         (conditions, column, kind, edges, threshold, actual_ok, dense),
                         fragments.merge_bin_slices)

    def ranking(
        self, split: SplitInfo, conditions: tuple[Condition, ...], codes: np.ndarray
    ) -> Ranking:
        """``Backend.ranking``: fragments' ranking steps merged by score on the
        cluster, summed here as the engine sums a whole split's."""
        merged = self._run(split, fragments.ranking_part, (conditions, codes),
                           merge_ranking_steps)
        return ranking_of_steps(merged)

    def precision_steps(
        self, split: SplitInfo, conditions: tuple[Condition, ...], code: int
    ) -> PrecisionSteps:
        """``Backend.precision_steps``: fragments' steps merged by confidence."""
        return self._run(split, fragments.steps_part, (conditions, code),
                         merge_precision_steps)

    def reliability(
        self, split: SplitInfo, conditions: tuple[Condition, ...], bins: int,
        threshold: float, labels: np.ndarray | None,
    ) -> ReliabilityBins:
        """``Backend.reliability``: each fragment's exact bin sums, added up."""
        sums = self._run(split, fragments.reliability_part,
                         (conditions, bins, threshold, labels), fragments.merge_bin_sums)
        return sums.diagram()

    def label_set_counts(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float,
        labels: np.ndarray | None, matrix: bool,
    ) -> MultilabelCounts:
        """``Backend.label_set_counts``: each fragment's counts, added up, then
        packaged as the engine packages one scan's."""
        n_labels = len(self._labels(split))
        tp, support, predicted, rows, counts = self._run(
            split, fragments.label_set_counts_part, (conditions, threshold, labels, matrix),
            fragments.merge_label_set_counts)
        return package_counts(tp, support, predicted, filter_codes(labels, n_labels), rows,
                              counts)

    def unlabeled_rows(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float,
        labels: np.ndarray | None,
    ) -> int:
        """``Backend.unlabeled_rows``: each fragment's rows without a label, added up."""
        return self._run(split, fragments.unlabeled_part, (conditions, threshold, labels),
                         fragments.merge_counts)

    def label_set_curve(
        self, split: SplitInfo, conditions: tuple[Condition, ...], thresholds: np.ndarray,
        labels: np.ndarray | None,
    ) -> MultilabelThresholdCounts:
        """``Backend.label_set_curve``: each fragment's per-threshold counts, added up."""
        return self._run(split, fragments.label_set_curve_part, (conditions, thresholds, labels),
                         fragments.merge_label_set_curves)

    def pair_histogram(
        self, split: SplitInfo, conditions: tuple[Condition, ...], edges: np.ndarray,
        labels: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``Backend.pair_histogram``: each fragment's histogram, added up."""
        return self._run(split, fragments.pair_histogram_part, (conditions, edges, labels),
                         fragments.merge_histograms)

    def _labels(self, split: SplitInfo) -> tuple[str, ...]:
        model = self.store.catalog.model(split.model)
        if model is None:
            raise StoreError(f"model {split.model} does not exist")
        return model.labels

    def compare_counts(self, base: CompareSide, cand: CompareSide) -> tuple[int, int] | None:
        """``Backend.compare_counts``: when fragment i of both splits holds the
        same ids in the same order (``same_rows``), each fragment's verdicts
        on its worker, each pair's fixed and regressed rows where one of the
        two is (the other's verdicts move: 1 byte a row), added up; None
        otherwise (the server joins on id)."""
        if not self.same_rows(base.split, cand.split):
            return None
        count_rows(base.split.row_count + cand.split.row_count)
        with self._failures(base.split, cand.split):
            parts = [self.client.submit(fragments.changes_part, b, c, pure=False)
                     for b, c in self._verdicts(base, cand)]
            fixed, regressed = self._reduce(parts, fragments.merge_sums)
        # At most one side's verdicts moved, fragment by fragment.
        self.bytes_moved += base.split.row_count
        return int(fixed), int(regressed)

    def compare_page(
        self, base: CompareSide, cand: CompareSide, change: int, after: int, limit: int,
    ) -> Page | None:
        """``Backend.compare_page``: each fragment pair's first ``limit + 1``
        changed positions after ``after``, the first of those kept by every
        merge; None when the splits are not in the same order."""
        if not self.same_rows(base.split, cand.split):
            return None
        count_rows(base.split.row_count + cand.split.row_count)
        with self._failures(base.split, cand.split):
            starts = [start for start, _ in self.bounds(base.split)]
            parts = [
                self.client.submit(fragments.changed_rows_part, b, c, start, change, int(after),
                                   limit, pure=False)
                for (b, c), start in zip(self._verdicts(base, cand), starts, strict=True)
            ]
            keys, _ = self._reduce(parts, fragments.merge_keys, (limit,))
        self.bytes_moved += base.split.row_count
        return page_of(keys, -1, limit)

    def _verdicts(self, base: CompareSide, cand: CompareSide) -> list[tuple[Future, Future]]:
        """Each fragment's verdicts of both sides, taken where the fragment
        lives, paired by fragment."""
        sides = [
            [self.client.submit(fragments.verdicts_part, f, side.conditions, side.threshold,
                                side.actual_ok, pure=False)
             for f in self.fragments(side.split)]
            for side in (base, cand)
        ]
        return list(zip(*sides, strict=True))

    def same_rows(self, base: SplitInfo, cand: SplitInfo) -> bool:
        """Whether fragment i of both splits holds the same ids in the same
        order, for every i: the same row count (hence the same fragments),
        and equal digests of each fragment's ids (``fragments.ids_digest_part``,
        computed on the workers once per split version)."""
        if base.row_count != cand.row_count:
            return False
        with self._failures(base, cand):
            first, second = self._id_digests(base, cand)
        return first == second

    def _id_digests(self, *splits: SplitInfo) -> list[list[bytes]]:
        """Each split's fragments' id digests, asked of the cluster for the
        splits not known yet (all their tasks at once)."""
        keys = [_token(split, ()) for split in splits]
        with self._lock:
            known = {key: self._digests[key] for key in keys if key in self._digests}
        asked = {
            key: [self.client.submit(fragments.ids_digest_part, self.root, split, start, stop,
                                     pure=False)
                  for start, stop in self.bounds(split)]
            for key, split in zip(keys, splits, strict=True) if key not in known
        }
        for key, futures in asked.items():
            known[key] = [f.result(timeout=self.timeout) for f in futures]
        with self._lock:
            for key in asked:
                self._digests[key] = known[key]
            while len(self._digests) > DIGESTS_KEPT:
                self._digests.popitem(last=False)
        return [known[key] for key in keys]

    def select(
        self, split: SplitInfo, conditions: tuple[Condition, ...], threshold: float,
        predicate: Predicate, descending: bool, after: int, limit: int,
    ) -> Page:
        """``Backend.select``: each fragment's ``limit + 1`` best keys, the best
        of those kept by every merge; the page made here."""
        args = (conditions, threshold, predicate, descending, int(after), limit)
        keys, total = self._run(split, fragments.select_part, args, fragments.merge_keys,
                                (limit,))
        return page_of(keys, total, limit)


def _token(split: SplitInfo, labels: tuple[str, ...]) -> str:
    # The same file, version and label order make the same fragments.
    source = split.checksum or f"{split.path}@{split.version}"
    text = "\n".join((source, str(split.version), *labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _moved(result: object, parts: int) -> int:
    """Bytes the query's partial results weigh together, fragments' and
    merges' (each about the merged result's size: the same shapes, or at
    most limit + 1 keys); what reaches the server is the last one alone."""
    return fragments.part_bytes(result) * parts
