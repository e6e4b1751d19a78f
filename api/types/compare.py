"""Comparing two splits row by row: what a new run fixed and what it broke.

Rows are joined on id. A row is right in a split when a label was predicted
at the threshold and it is the actual label; anything else (another label,
abstained, unlabeled) is wrong. Fixed = wrong in the baseline and right in the
candidate; regressed = the reverse. Ids found in only one split are neither.
Each split is judged by its own actual labels, so the two may even belong to
different models.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import strawberry

from evalql.api.context import Context
from evalql.api.types.catalog import resolve_split
from evalql.api.types.inputs import SplitRef
from evalql.api.types.metrics import Metrics
from evalql.api.types.rows import (
    Change,
    Row,
    RowConnection,
    check_first,
    decode_cursor,
    fingerprint,
    make_rows,
)
from evalql.api.views import View
from evalql.engine.compare import FIXED, REGRESSED, Columns, changed_rows, count_changes
from evalql.engine.confusion import as_threshold
from evalql.engine.select import Page
from evalql.storage.datasets import SplitData

_CHANGES = {Change.FIXED: FIXED, Change.REGRESSED: REGRESSED}


class Pair:
    """Two views of one request joined on id; the change counts computed once."""

    def __init__(self, baseline: View, candidate: View) -> None:
        self.baseline = baseline
        self.candidate = candidate
        self._counts: asyncio.Future[tuple[int, int]] | None = None

    async def counts(self) -> tuple[int, int]:
        """(fixed, regressed)."""
        if self._counts is None:
            self._counts = asyncio.ensure_future(self.baseline.ctx.run(self._count))
        return await self._counts

    def fingerprint(self, change: Change) -> bytes:
        b, c = self.baseline.split, self.candidate.split
        return fingerprint(
            "compare", b.model, b.run, b.name, b.version, c.model, c.run, c.name, c.version,
            float(as_threshold(self.baseline.threshold)), change.value,
        )

    def _count(self) -> tuple[int, int]:
        base, cand = self.baseline._load(), self.candidate._load()
        return count_changes(
            _columns(base), _columns(cand), self._join(base, cand), self.baseline.threshold
        )

    def page(self, change: Change, after: int, limit: int) -> tuple[Page, list[Row]]:
        """Blocking: baseline positions after ``after`` with ``change``, as rows."""
        base, cand = self.baseline._load(), self.candidate._load()
        join = self._join(base, cand)
        page = changed_rows(
            _columns(base), _columns(cand), join, self.baseline.threshold,
            _CHANGES[change], after, limit,
        )
        rows = make_rows(self.candidate, page.rows if join is None else join[page.rows])
        for row, before in zip(rows, make_rows(self.baseline, page.rows), strict=True):
            row.baseline = before
        return page, rows

    def _join(self, base: SplitData, cand: SplitData) -> np.ndarray | None:
        """Candidate row of each baseline row (-1: none); None when row i is
        row i in both, as for two runs over the same rows."""
        c = cand.info
        key = ("join", c.model, c.run, c.name, c.version)
        return base.memo(key, lambda: _join_ids(base.ids, cand.ids))


def _join_ids(base: pa.Array, cand: pa.Array) -> np.ndarray | None:
    if base.equals(cand):
        return None
    found = pc.index_in(base, value_set=cand).fill_null(-1)
    join = found.cast(pa.int32()).to_numpy(zero_copy_only=False)
    join.flags.writeable = False
    return join


def _columns(data: SplitData) -> Columns:
    return Columns(data.actual, data.predicted, data.confidence)


@strawberry.type(
    description=(
        "Two splits side by side at one threshold, their rows joined on id. A row is "
        "right when a label was predicted at the threshold and it is the actual "
        "label; ids in only one split count as neither fixed nor regressed."
    )
)
class Comparison:
    pair: strawberry.Private[Pair]

    @classmethod
    def of(
        cls, ctx: Context, baseline: SplitRef, candidate: SplitRef, threshold: float
    ) -> Comparison:
        views = []
        for ref in (baseline, candidate):
            split = resolve_split(ctx, ref.model, ref.run, ref.split)
            view = View.get(ctx, split.model_info, split.info, threshold)
            view.require_multiclass("compare")
            views.append(view)
        return cls(pair=Pair(*views))

    @strawberry.field
    def baseline(self) -> Metrics:
        return Metrics(view=self.pair.baseline)

    @strawberry.field
    def candidate(self) -> Metrics:
        return Metrics(view=self.pair.candidate)

    @strawberry.field(description="Rows wrong in the baseline and right in the candidate.")
    async def fixed(self) -> int:
        return (await self.pair.counts())[0]

    @strawberry.field(description="Rows right in the baseline and wrong in the candidate.")
    async def regressed(self) -> int:
        return (await self.pair.counts())[1]

    @strawberry.field(
        description=(
            "The fixed or regressed rows in the baseline's row order. Each node is the "
            "candidate's row; its `baseline` field is the baseline's row of the same id."
        )
    )
    async def rows(
        self, change: Change, first: int = 50, after: str | None = None
    ) -> RowConnection:
        check_first(first)
        issuer = self.pair.fingerprint(change)
        key = decode_cursor(after, issuer)
        page, rows = await self.pair.baseline.ctx.run(self.pair.page, change, key, first)
        fixed, regressed = await self.pair.counts()
        total = fixed if change is Change.FIXED else regressed
        return RowConnection.of(page, rows, issuer, total)
