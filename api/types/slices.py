"""Metrics by metadata (``breakdown``) and the confidence histogram.

The view cuts its rows (``views/breakdown.py``) and bins their confidences;
these types show the slices and bins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from evalql.api.views import HistogramBin as Bin
from evalql.api.views import Slice as Cut
from evalql.api.views import View

if TYPE_CHECKING:
    from evalql.api.types.metrics import Metrics


@strawberry.type(description="Rows of a view with a prediction, by confidence.")
class HistogramBin:
    view: strawberry.Private[View]
    bins: strawberry.Private[int]  # the histogram's bins, and this bin's place in it
    index: strawberry.Private[int]
    low: float
    high: float = strawberry.field(description="Exclusive, except for the last bin's 1.0.")
    count: int = strawberry.field(
        description="Rows with a prediction of this confidence, labeled or not."
    )
    correct: int = strawberry.field(description="Of those, rows predicted right.")

    @strawberry.field(
        description="Of count, the rows with an actual label (multilabel and under a "
        "class filter: all of them), so correct / labeled is the bin's accuracy, as "
        "Metrics.accuracy is correct / labeled. Counted only when asked for."
    )
    async def labeled(self) -> int:
        return int((await self.view.histogram_labeled(self.bins))[self.index])

    @classmethod
    def from_bins(cls, view: View, bins: list[Bin]) -> list[HistogramBin]:
        return [
            cls(view=view, bins=len(bins), index=i, low=b.low, high=b.high, count=b.count,
                correct=b.correct)
            for i, b in enumerate(bins)
        ]


@strawberry.type(description="The rows of a view with one value (or in one bin) of a column.")
class Slice:
    key: str = strawberry.field(
        description='The value; "[low, high)" for a bin (the last bin is closed); '
        '"null" for the rows without a value.'
    )
    low: float | None = strawberry.field(
        description="A bin's bounds; seconds since the Unix epoch on time columns."
    )
    high: float | None
    count: int = strawberry.field(description="Rows of the slice in the view: metrics.total.")
    is_null: bool = strawberry.field(description="The slice of rows without a value.")
    view: strawberry.Private[View]

    @classmethod
    def from_cut(cls, c: Cut) -> Slice:
        return cls(key=c.key, low=c.low, high=c.high, count=c.count, is_null=c.is_null,
                   view=c.view)

    @strawberry.field(description="The same view with the slice's condition added.")
    def metrics(self) -> Annotated[Metrics, strawberry.lazy("evalql.api.types.metrics")]:
        from evalql.api.types.metrics import Metrics  # the two types refer to each other

        return Metrics(view=self.view)
