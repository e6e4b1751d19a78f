"""Comparing two splits row by row (``views/compare.py``): what a new run
fixed and what it broke."""

from __future__ import annotations

import strawberry

from evalql.api.context import Context
from evalql.api.scalars import nullable
from evalql.api.types.catalog import resolve_split
from evalql.api.types.enums import Change
from evalql.api.types.inputs import RowFilter, SplitRef
from evalql.api.types.metrics import Metrics
from evalql.api.types.rows import RowConnection
from evalql.api.views import LabelDelta, Pair, View


@strawberry.type(
    name="LabelDelta",
    description=(
        "One label's change, candidate minus baseline, labels matched by name; null "
        "where either side lacks the label or its value is undefined."
    )
)
class LabelDeltaMetrics:
    label: str
    delta_precision: float | None
    delta_recall: float | None
    delta_f1: float | None
    delta_support: int | None

    @classmethod
    def from_delta(cls, d: LabelDelta) -> LabelDeltaMetrics:
        return cls(label=d.label, delta_precision=nullable(d.precision),
                   delta_recall=nullable(d.recall), delta_f1=nullable(d.f1),
                   delta_support=d.support)


@strawberry.type(
    description=(
        "Two splits side by side at one threshold, their rows joined on id, of one model "
        "or of two models of one task. A row is right when a label was predicted at the "
        "threshold and it is the actual label (multilabel: when the kept label set equals "
        "the actual set, an exact match); ids in only one split, rows without an actual "
        "label on either side (they cannot be judged, as for accuracy), and rows outside "
        "either side's class or row filter count as neither fixed nor regressed."
    )
)
class Comparison:
    pair: strawberry.Private[Pair]

    @classmethod
    def of(
        cls,
        ctx: Context,
        baseline: SplitRef,
        candidate: SplitRef,
        threshold: float,
        labels: list[str] | None = None,
        where: list[RowFilter] | None = None,
    ) -> Comparison:
        views = []
        for ref in (baseline, candidate):  # in turn: the baseline's error comes first
            split = resolve_split(ctx, ref.model, ref.run, ref.split)
            views.append(View.get(ctx, split.model_info, split.info, threshold, labels,
                                  where=where))
        return cls(pair=Pair.of(*views))

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
            "Per-label changes, candidate minus baseline, over the labels of both sides "
            "(matched by name), sorted by |deltaF1| descending, nulls last, then in label "
            "order (the baseline's, then the candidate's others)."
        )
    )
    async def per_label(self) -> list[LabelDeltaMetrics]:
        return [LabelDeltaMetrics.from_delta(d) for d in await self.pair.per_label()]

    @strawberry.field(
        description=(
            "Candidate minus baseline hammingScore (multilabel); null for multiclass models."
        )
    )
    async def delta_hamming_score(self) -> float | None:
        return nullable(await self.pair.hamming_delta())

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
