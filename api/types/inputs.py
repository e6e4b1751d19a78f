"""GraphQL input types and their translation to storage conditions."""

from __future__ import annotations

import strawberry

from evalql.api.limits import MAX_IN_VALUES, MAX_WHERE_CONDITIONS, check_length
from evalql.storage.filters import Condition


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

    def to_condition(self) -> Condition:
        return Condition(
            column=self.column,
            isin=None if self.in_ is None else tuple(self.in_),
            gt=self.gt, gte=self.gte, lt=self.lt, lte=self.lte,
            is_null=self.is_null,
        )


def conditions_of(where: list[RowFilter] | None) -> tuple[Condition, ...]:
    """The storage conditions of a ``where`` argument (empty when omitted),
    refused at once past the bounds of api/limits.py."""
    where = where or []
    check_length("where", len(where), MAX_WHERE_CONDITIONS, "conditions")
    values = sum(len(f.in_ or ()) for f in where)
    check_length("where", values, MAX_IN_VALUES, "`in` values in all")
    return tuple(f.to_condition() for f in where)
