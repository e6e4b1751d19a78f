"""Comparing two splits row by row: what a new run fixed and what it broke.

Rows are joined on id. A row is right in a split when a label was predicted
at the threshold and it is the actual label; anything else (another label,
abstained, unlabeled) is wrong. Fixed = wrong in the baseline and right in the
candidate; regressed = the reverse. Ids found in only one split are neither.
Each split is judged by its own actual labels, so the two may even belong to
different models. Multiclass only: ``View.for_comparison`` refuses the rest.
"""

from __future__ import annotations

import asyncio

import numpy as np

from evalql.api import limits
from evalql.api.cursors import decode_cursor, fingerprint
from evalql.api.views.base import View
from evalql.api.views.rows import RowPage, RowRecord
from evalql.engine.compare import FIXED, REGRESSED, changed_rows, count_changes
from evalql.engine.confusion import as_threshold
from evalql.engine.select import Page
from evalql.engine.significance import mcnemar_p_value
from evalql.storage.columns import join_ids
from evalql.storage.datasets import SplitData

_CHANGES = {"FIXED": FIXED, "REGRESSED": REGRESSED}


class Pair:
    """Two views of one request joined on id; the change counts computed once."""

    def __init__(self, baseline: View, candidate: View) -> None:
        self.baseline = baseline
        self.candidate = candidate
        self._counts: asyncio.Future[tuple[int, int]] | None = None

    async def counts(self) -> tuple[int, int]:
        """(fixed, regressed)."""
        if self._counts is None:
            self._counts = asyncio.ensure_future(self.baseline.request.run(self._count))
        return await self._counts

    async def mcnemar_p_value(self) -> float:
        """Exact two-sided McNemar p-value of the fixed against the regressed rows."""
        return mcnemar_p_value(*await self.counts())

    async def rows(self, change: str, first: int, after: str | None) -> RowPage:
        """The rows with ``change`` ("FIXED" or "REGRESSED") in the baseline's order."""
        limits.check_within("first", first, 1, limits.MAX_FIRST)
        b, c = self.baseline.split, self.candidate.split
        query = fingerprint(
            "compare", b.model, b.run, b.name, b.version, c.model, c.run, c.name, c.version,
            float(as_threshold(self.baseline.threshold)), change,
        )
        key = decode_cursor(after, query)
        page, records = await self.baseline.request.run(self._page, change, key, first)
        fixed, regressed = await self.counts()
        return RowPage.of(page, records, query, fixed if change == "FIXED" else regressed)

    def _count(self) -> tuple[int, int]:
        base, cand = self.baseline._load(), self.candidate._load()
        return count_changes(
            self.baseline.compare_columns(base), self.candidate.compare_columns(cand),
            self._join(base, cand), self.baseline.threshold,
        )

    def _page(self, change: str, after: int, limit: int) -> tuple[Page, list[RowRecord]]:
        """Blocking: baseline positions after ``after`` with ``change``, as rows."""
        base, cand = self.baseline._load(), self.candidate._load()
        join = self._join(base, cand)
        page = changed_rows(
            self.baseline.compare_columns(base), self.candidate.compare_columns(cand), join,
            self.baseline.threshold, _CHANGES[change], after, limit,
        )
        rows = self.candidate.records(page.rows if join is None else join[page.rows])
        for row, before in zip(rows, self.baseline.records(page.rows), strict=True):
            row.baseline = before
        return page, rows

    def _join(self, base: SplitData, cand: SplitData) -> np.ndarray | None:
        """Candidate row of each baseline row (-1: none); None when row i is
        row i in both, as for two runs over the same rows."""
        c = cand.info
        key = ("join", c.model, c.run, c.name, c.version)
        return base.memo(key, lambda: join_ids(base.ids, cand.ids))
