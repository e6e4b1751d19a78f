"""GraphQL input types (a ``where`` becomes conditions in ``views.conditions_of``)."""

from __future__ import annotations

import strawberry


@strawberry.input(description="Names one split of one run of one model.")
class SplitRef:
    model: str
    run: str
    split: str


@strawberry.input(
    description=(
        "A condition on a metadata column. Every given part must hold, and a list "
        "of RowFilters is ANDed. On time columns gt/gte/lt/lte are seconds since "
        "the Unix epoch (UTC). A null value satisfies only isNull: true."
    )
)
class RowFilter:
    column: str
    in_: list[str] | None = strawberry.field(name="in", default=None)
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    is_null: bool | None = None
