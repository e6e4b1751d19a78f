"""A static cost bound: a query whose estimated work is too large is refused
before anything is computed.

The estimate is an upper bound read off the document: every view
(``metrics``, ``compare``) costs 1, and a field that fans out multiplies the
cost of what is under it — ``breakdown`` by its ``bins`` (string columns: by
``BREAKDOWN_FANOUT``), ``curve`` by its points / 100, and lists of catalog
objects by ``LIST_FANOUT``. Validation runs before variables are bound, so an
argument given as a variable counts at its default.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    value_from_ast_untyped,
)

MAX_COST = 2_000
BREAKDOWN_FANOUT = 50
LIST_FANOUT = 10
VIEW_FIELDS = {"metrics", "compare", "baseline", "candidate"}
LIST_FIELDS = {"models", "runs", "splits"}


def _argument(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            if isinstance(arg.value, VariableNode):
                return variables.get(arg.value.name.value)
            return value_from_ast_untyped(arg.value)
    return None


def _fanout(node: FieldNode, variables: dict[str, Any]) -> float:
    name = node.name.value
    if name == "breakdown":
        bins = _argument(node, "bins", variables)
        return max(BREAKDOWN_FANOUT, int(bins or 0))
    if name == "curve":
        points = _argument(node, "points", variables) or 101
        return max(1.0, int(points) / 100)
    if name in LIST_FIELDS:
        return LIST_FANOUT
    return 1


class QueryCost(ValidationRule):
    """Reports an error when an operation's estimated cost exceeds ``MAX_COST``."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        variables = getattr(self.context, "variable_values", None) or {}
        cost = self._cost(node.selection_set, variables, depth=0)
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"the query's estimated cost {cost:,.0f} is over the limit of "
                    f"{MAX_COST:,}: ask for fewer views, slices or curve points per request",
                    node,
                    extensions={"code": "COST_LIMIT"},
                )
            )

    def _cost(
        self, selections: SelectionSetNode | None, variables: dict[str, Any], depth: int
    ) -> float:
        if selections is None or depth > 64:  # deeper documents are the depth limit's job
            return 0
        total = 0.0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                inner = self._cost(selection.selection_set, variables, depth + 1)
                own = 1 if selection.name.value in VIEW_FIELDS else 0
                total += own + _fanout(selection, variables) * inner
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, variables, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    total += self._cost(fragment.selection_set, variables, depth + 1)
        return total
