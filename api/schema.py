"""The GraphQL schema, its query limits, and ``python -m evalql.api.schema`` to print it."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
)
from strawberry.schema.config import StrawberryConfig

from evalql.api.context import Context
from evalql.api.cost import QueryBounds
from evalql.api.documents import OffLoopDocuments
from evalql.api.errors import CodedErrors
from evalql.api.limits import MAX_TOKENS
from evalql.api.plain_fields import PlainFieldsExecutor
from evalql.api.scalars import SCALARS
from evalql.api.types.catalog import Model
from evalql.api.types.compare import Comparison
from evalql.api.types.inputs import RowFilter, SplitRef
from evalql.api.types.mutations import Mutation

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
            "metrics and the rows the candidate fixed or broke. The splits may belong "
            "to two models of one task (two tasks are BAD_USER_INPUT). labels and where "
            "apply to both sides, as in Split.metrics (each label has to be one of both "
            "models'). An unknown model, run or split is NOT_FOUND."
        )
    )
    def compare(
        self,
        info: Info,
        baseline: SplitRef,
        candidate: SplitRef,
        threshold: float = 0.0,
        labels: list[str] | None = None,
        where: list[RowFilter] | None = None,
    ) -> Comparison:
        return Comparison.of(info.context, baseline, candidate, threshold, labels, where)


# The document's limits (their values: api/limits.py, the list of every bound):
# a request over any of them is refused with a clear error before anything is computed.
LIMITS = [
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    # api/cost.py: <= 32 aliases, depth <= 12, views x fan-out <= 5,000; linear in
    # the document however fragments nest (strawberry's own limiters are not)
    lambda: AddValidationRules([QueryBounds]),
]

class Schema(strawberry.Schema):
    """Logs only the errors that are bugs: a user's bad input is answered, not logged."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [
            e for e in errors
            if e.original_error is not None and not isinstance(e.original_error, GraphQLError)
        ]
        super().process_errors(unexpected, execution_context)


schema = Schema(
    query=Query,
    mutation=Mutation,
    # OffLoopDocuments: large documents are parsed and validated in a thread.
    extensions=[*LIMITS, CodedErrors, OffLoopDocuments],
    config=StrawberryConfig(scalar_map=SCALARS),
    # Plain-data objects (a per-label table's rows) completed in one loop.
    execution_context_class=PlainFieldsExecutor,
)


if __name__ == "__main__":
    print(schema.as_str())
