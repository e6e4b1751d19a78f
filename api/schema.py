"""The GraphQL schema, its query limits, and ``python -m api.schema`` to print it."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from api.context import Context
from api.cost import QueryCost
from api.errors import should_mask
from api.scalars import SCALARS
from api.types.catalog import Model
from api.types.compare import Comparison
from api.types.inputs import SplitRef

Info = strawberry.Info[Context, None]


@strawberry.type
class Query:
    @strawberry.field(description="Every stored model, by name.")
    def models(self, info: Info) -> list[Model]:
        return [Model(info=m) for m in info.context.store.catalog.models()]

    @strawberry.field(description="A model by name; null when there is none of that name.")
    def model(self, info: Info, name: str) -> Model | None:
        found = info.context.store.catalog.model(name)
        return None if found is None else Model(info=found)

    @strawberry.field(
        description=(
            "Two splits side by side at one threshold, rows joined on id: each's "
            "metrics and the rows the candidate fixed or broke. An unknown model, "
            "run or split is NOT_FOUND."
        )
    )
    def compare(
        self, info: Info, baseline: SplitRef, candidate: SplitRef, threshold: float = 0.0
    ) -> Comparison:
        return Comparison.of(info.context, baseline, candidate, threshold)


# Every limit a query is held to, in one place: a request over any of them is
# refused with a clear error before anything is computed.
LIMITS = [
    lambda: QueryDepthLimiter(max_depth=12),
    lambda: MaxAliasesLimiter(max_alias_count=32),
    lambda: MaxTokensLimiter(max_token_count=4000),
    lambda: AddValidationRules([QueryCost]),  # api/cost.py: views x fan-out <= MAX_COST
]

schema = strawberry.Schema(
    query=Query,
    extensions=[*LIMITS, lambda: MaskErrors(should_mask_error=should_mask)],
    config=StrawberryConfig(scalar_map=SCALARS),
)


if __name__ == "__main__":
    print(schema.as_str())
