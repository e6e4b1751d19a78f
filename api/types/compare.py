"""Comparing two splits row by row (``views/compare.py``): what a new run
fixed and what it broke."""

from __future__ import annotations

import strawberry

from evalql.api.context import Context
from evalql.api.types.catalog import resolve_split
from evalql.api.types.enums import Change
from evalql.api.types.inputs import SplitRef
from evalql.api.types.metrics import Metrics
from evalql.api.types.rows import RowConnection
from evalql.api.views import Pair, View


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
        for ref in (baseline, candidate):  # in turn: the baseline's error comes first
            split = resolve_split(ctx, ref.model, ref.run, ref.split)
            views.append(View.get(ctx, split.model_info, split.info, threshold).for_comparison())
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
            "Two-sided exact McNemar p-value of fixed against regressed rows: "
            "min(1, 2 P(X <= min(fixed, regressed))) for X ~ Binomial(fixed + "
            "regressed, 1/2), as scipy's binomtest(fixed, fixed + regressed).pvalue; "
            "1 when no row changed. Small means the difference is unlikely to be chance."
        )
    )
    async def mcnemar_p_value(self) -> float:
        return await self.pair.mcnemar_p_value()

    @strawberry.field(
        description=(
            "The fixed or regressed rows in the baseline's row order. Each node is the "
            "candidate's row; its `baseline` field is the baseline's row of the same id."
        )
    )
    async def rows(
        self, change: Change, first: int = 50, after: str | None = None
    ) -> RowConnection:
        return RowConnection.from_page(await self.pair.rows(change.value, first, after))
