"""Comparing two splits row by row: what a new run fixed and what it broke.

Rows are joined on id. Each split judges its own rows (``View.verdicts``):
multiclass, a row is right when a label was predicted at the threshold and it
is the actual label, another label or an abstention is wrong, and a row
without an actual label is not judged (accuracy leaves it out, so it can
never be fixed or regressed); multilabel, when the kept label set equals the
actual set on the view's labels (exact match; every row is labeled). A row
outside a side's class or row filter is not judged. Fixed = wrong in the
baseline and right in the candidate; regressed = the reverse. Ids found in
only one split, or judged by one side only, are neither, and the missing
side's row is never read. Two large splits on a cluster that hold the same
ids in the same order are counted there, fragment pair by fragment pair
(``api.backends``), and the positions of a page of changed rows too; the
rows' records are read here.

Each split is judged by its own actual labels, so the two may belong to
different models of one task (``Pair.of`` refuses two tasks). Labels are
matched by name: the per-label deltas cover the union of both sides' labels
(the baseline's order, then the candidate's others), null where a side
lacks the label or either value is undefined.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import numpy as np

from evalql.api import backends, limits
from evalql.api.backends import CompareSide
from evalql.api.cursors import decode_cursor, fingerprint
from evalql.api.errors import BadUserInput
from evalql.api.views.base import View
from evalql.api.views.results import LabelRow
from evalql.api.views.rows import RowPage, RowRecord
from evalql.engine.compare import FIXED, REGRESSED, changed_rows, count_changes
from evalql.engine.confusion import as_threshold
from evalql.engine.select import Page
from evalql.engine.significance import mcnemar_p_value
from evalql.storage.columns import join_ids
from evalql.storage.datasets import SplitData

_CHANGES = {"FIXED": FIXED, "REGRESSED": REGRESSED}
_NAN = float("nan")


@dataclass(frozen=True)
class LabelDelta:
    """One label's candidate minus baseline; NaN (support: None) where a side
    lacks the label or either value is undefined."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int | None


class Pair:
    """Two views of one request joined on id; the change counts computed once."""

    def __init__(self, baseline: View, candidate: View) -> None:
        self.baseline = baseline
        self.candidate = candidate
        self._counts: asyncio.Future[tuple[int, int]] | None = None

    @classmethod
    def of(cls, baseline: View, candidate: View) -> Pair:
        """The pair, when both views' models have one task; else BAD_USER_INPUT."""
        b, c = baseline.model, candidate.model
        if b.task != c.task:
            raise BadUserInput(
                f'compare needs two models of one task: "{b.name}" is {b.task} and '
                f'"{c.name}" is {c.task}'
            )
        return cls(baseline, candidate)

    async def counts(self) -> tuple[int, int]:
        """(fixed, regressed)."""
        if self._counts is None:
            self._counts = asyncio.ensure_future(self.baseline.request.run(self._count))
        return await self._counts

    async def mcnemar_p_value(self) -> float:
        """Exact two-sided McNemar p-value of the fixed against the regressed rows."""
        return mcnemar_p_value(*await self.counts())

    async def per_label(self) -> list[LabelDelta]:
        """Per-label deltas over both sides' labels, by |ΔF1| descending (NaN
        last, then in label order)."""
        base = {r.label: r for r in await self.baseline.per_label()}
        cand = {r.label: r for r in await self.candidate.per_label()}
        names = list(base) + [name for name in cand if name not in base]
        deltas = [_delta(name, base.get(name), cand.get(name)) for name in names]
        return sorted(deltas, key=lambda d: _by_f1_change(d.f1))  # stable: label order

    async def hamming_delta(self) -> float:
        """Candidate minus baseline Hamming score; NaN for multiclass."""
        before, after = await self.baseline.summary(), await self.candidate.summary()
        return after.hamming_score - before.hamming_score

    async def rows(self, change: str, first: int, after: str | None) -> RowPage:
        """The rows with ``change`` ("FIXED" or "REGRESSED") in the baseline's order."""
        limits.check_within("first", first, 1, limits.MAX_FIRST)
        b, c = self.baseline, self.candidate
        query = fingerprint(
            "compare", *(_identity(v) for v in (b, c)),
            float(as_threshold(b.threshold)), change,
        )
        key = decode_cursor(after, query)
        page, records = await b.request.run(self._page, change, key, first)
        fixed, regressed = await self.counts()
        return RowPage.of(page, records, query, fixed if change == "FIXED" else regressed)

    def _count(self) -> tuple[int, int]:
        counted = self._count_on_cluster()
        if counted is not None:
            return counted
        base, cand = self.baseline._load(), self.candidate._load()
        return count_changes(
            self.baseline.verdicts(base), self.candidate.verdicts(cand), self._join(base, cand)
        )

    def _count_on_cluster(self) -> tuple[int, int] | None:
        """Blocking: the counts from the splits' cluster, when both splits are
        on one and hold the same ids in the same row order; None: join here."""
        cluster = self._cluster()
        return None if cluster is None else cluster[0].compare_counts(*cluster[1:])

    def _cluster(self) -> tuple[backends.Backend, CompareSide, CompareSide] | None:
        """The cluster both splits are on, and both sides as it takes them; None
        when they are not on one (or their task's verdicts are taken here)."""
        b, c = self.baseline, self.candidate
        remote = backends.for_split(b.request.store, b.split)
        if remote is None or remote is not backends.for_split(c.request.store, c.split):
            return None
        base, cand = b.compare_side(), c.compare_side()
        if base is None or cand is None:
            return None
        return remote, base, cand

    def _page(self, change: str, after: int, limit: int) -> tuple[Page, list[RowRecord]]:
        """Blocking: baseline positions after ``after`` with ``change``, as rows."""
        page, join = self._changed(change, after, limit)
        # Changed rows are present on both sides: join[page.rows] is never -1.
        rows = self.candidate.records(page.rows if join is None else join[page.rows])
        for row, before in zip(rows, self.baseline.records(page.rows), strict=True):
            row.baseline = before
        return page, rows

    def _changed(self, change: str, after: int, limit: int) -> tuple[Page, np.ndarray | None]:
        """Blocking: the page of baseline positions with ``change``, and the
        join that finds them in the candidate (None: the same positions). On
        the splits' cluster when it has them in the same order."""
        cluster = self._cluster()
        if cluster is not None:
            page = cluster[0].compare_page(*cluster[1:], _CHANGES[change], after, limit)
            if page is not None:
                return page, None
        base, cand = self.baseline._load(), self.candidate._load()
        join = self._join(base, cand)
        page = changed_rows(
            self.baseline.verdicts(base), self.candidate.verdicts(cand), join,
            _CHANGES[change], after, limit,
        )
        return page, join

    def _join(self, base: SplitData, cand: SplitData) -> np.ndarray | None:
        """Candidate row of each baseline row (-1: none); None when row i is
        row i in both, as for two runs over the same rows."""
        c = cand.info
        key = ("join", c.model, c.run, c.name, c.version)
        def join() -> np.ndarray | None:
            found = join_ids(base.ids, cand.ids)
            base.release(base.ids)  # both read whole once: their pages need not stay mapped
            cand.release(cand.ids)
            return found

        return base.memo(key, join)


def _identity(view: View) -> tuple[object, ...]:
    # What a cursor of a comparison's rows is good for: both sides' splits and filters.
    s = view.split
    return (s.model, s.run, s.name, s.version, view.class_filter, view.conditions)


def _by_f1_change(f1: float) -> tuple[bool, float]:
    # Largest |ΔF1| first, undefined last.
    return (True, 0.0) if math.isnan(f1) else (False, -abs(f1))


def _delta(name: str, before: LabelRow | None, after: LabelRow | None) -> LabelDelta:
    if before is None or after is None:
        return LabelDelta(name, _NAN, _NAN, _NAN, None)
    ratio = {m: after.ratios[m] - before.ratios[m] for m in ("precision", "recall", "f1")}
    return LabelDelta(name, ratio["precision"], ratio["recall"], ratio["f1"],
                      after.support - before.support)
