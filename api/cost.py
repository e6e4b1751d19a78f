"""Static bounds on a query's work: its aliases, its depth and its estimated cost.

Aliases are counted as written in the document (each fragment once): the cost
bound already accounts for what fragments expand to.

The estimate is an upper bound read off the document before anything runs:
every view (``metrics``, ``compare``) costs 1, a ``breakdown`` costs one per
slice and multiplies what is under it by its slices, a ``curve`` costs
points / 100, and lists of catalog objects multiply what is under them by
``LIST_FANOUT`` (a ``history``, a view per run, costs ``LIST_FANOUT``).
Validation runs before variables are bound, so a fan-out argument given as a
variable counts at its largest allowed value.

A breakdown's slices depend on its column, which the document names but
does not type: ``slices`` (``BreakdownSlices``) maps each metadata column of
the store to the most slices a breakdown of it can make in any split (its
``bins`` for a number or time column, 2 for a bool, and for a string column
its number of values as ingest recorded it in the catalog, at most
``MAX_SLICES``, 1,000, the most a breakdown may make; 1,000 for a split
ingested before the count was kept), plus the null slice. A column given
as a variable, or a document checked without the store's columns, counts
``MAX_SLICES``; a column the store does not have counts its bins (the
breakdown is refused as it runs). So two nested breakdowns of a string
column with 1,000 values or more cost about 10⁶ and are refused before
anything runs; of a 3-valued column, 1 + 4 × (1 + 1 + 4).

Fragments are measured once each (memoized by name), so a chain of fragments
that spread each other twice costs linear time to check, not exponential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
)

from evalql.api import limits
from evalql.api.limits import MAX_ALIASES, MAX_BINS, MAX_COST, MAX_DEPTH
from evalql.api.limits import MAX_CURVE_POINTS as MAX_POINTS

# Column name -> the most slices a breakdown of it makes besides the null
# slice; 0 for a binned (number or time) column, whose bins decide.
BreakdownSlices = Mapping[str, int]
DEFAULT_BINS = 10  # Metrics.breakdown's default
LIST_FANOUT = 10
VIEW_FIELDS = {"metrics", "compare", "baseline", "candidate"}
LIST_FIELDS = {"models", "runs", "splits"}


@dataclass(frozen=True)
class Bound:
    """What a selection set costs and how deep it goes."""

    cost: float
    depth: int


def _int_argument(node: FieldNode, name: str, largest: int) -> int | None:
    """A literal int argument; ``largest`` for a variable; None when absent.

    Other literal kinds are left to type validation, which refuses them.
    """
    for arg in node.arguments or ():
        if arg.name.value == name:
            if isinstance(arg.value, IntValueNode):
                return max(0, min(int(arg.value.value), largest))
            return largest if arg.value.kind == "variable" else None
    return None


def _aliases(selections: SelectionSetNode | None) -> int:
    if selections is None:
        return 0
    count = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode) and selection.alias is not None:
            count += 1
        count += _aliases(getattr(selection, "selection_set", None))
    return count


def _column(node: FieldNode) -> str | None:
    """A breakdown's column when written as a literal; None for a variable."""
    for arg in node.arguments or ():
        if arg.name.value == "column" and isinstance(arg.value, StringValueNode):
            return arg.value.value
    return None


def breakdown_slices(node: FieldNode, columns: BreakdownSlices | None) -> int:
    """The most slices the ``breakdown`` field ``node`` can make, the null slice included."""
    bins = _int_argument(node, "bins", MAX_BINS) or DEFAULT_BINS
    column = _column(node)
    if columns is None or column is None:
        return max(bins, limits.MAX_SLICES) + 1
    by_value = columns.get(column, 0)
    return (by_value or bins) + 1


def _field_cost(node: FieldNode, inner: float, columns: BreakdownSlices | None) -> float:
    name = node.name.value
    if name == "breakdown":
        return breakdown_slices(node, columns) * (1 + inner)
    if name == "curve":
        points = _int_argument(node, "points", MAX_POINTS) or 101
        return max(1.0, points / 100) * (1 + inner)
    if name in LIST_FIELDS:
        return LIST_FANOUT * inner
    if name == "history":  # a view per run with the split, as runs { split { metrics } }
        return LIST_FANOUT * (1 + inner)
    return (1 if name in VIEW_FIELDS else 0) + inner


class QueryBounds(ValidationRule):
    """Refuses an operation deeper than ``MAX_DEPTH`` or costlier than ``MAX_COST``.

    ``columns`` is the store's breakdown slices by column, set on a subclass
    by whoever validates with the store at hand (api/documents.py); without
    it every breakdown counts ``MAX_SLICES``.
    """

    columns: BreakdownSlices | None = None

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._fragments: dict[str, Bound] = {}
        self._visiting: set[str] = set()
        self.cost: float | None = None  # the costliest operation's, for the access log

    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        aliases = sum(
            _aliases(d.selection_set) for d in node.definitions if hasattr(d, "selection_set")
        )
        if aliases > MAX_ALIASES:
            self.report_error(
                GraphQLError(
                    f"the query has {aliases} aliases; the limit is {MAX_ALIASES}",
                    extensions={"code": "COST_LIMIT"},
                )
            )

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        bound = self._bound(node.selection_set)
        self.cost = max(self.cost or 0.0, bound.cost)
        if bound.depth > MAX_DEPTH:
            self._refuse(node, f"the query is {bound.depth} levels deep; the limit is {MAX_DEPTH}")
        elif bound.cost > MAX_COST:
            self._refuse(
                node,
                f"the query's estimated cost {bound.cost:,.0f} is over the limit of "
                f"{MAX_COST:,}: ask for fewer views, slices or curve points per request",
            )

    def _refuse(self, node: OperationDefinitionNode, message: str) -> None:
        self.report_error(GraphQLError(message, node, extensions={"code": "COST_LIMIT"}))

    def _bound(self, selections: SelectionSetNode | None) -> Bound:
        if selections is None:
            return Bound(0, 0)
        cost, depth = 0.0, 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue  # introspection (GraphiQL's own query is 13 levels deep)
                inner = self._bound(selection.selection_set)
                cost += _field_cost(selection, inner.cost, self.columns)
                depth = max(depth, inner.depth + 1)
            else:
                inner = self._inline(selection)
                cost += inner.cost
                depth = max(depth, inner.depth)
        return Bound(cost, depth)

    def _inline(self, selection: InlineFragmentNode | FragmentSpreadNode) -> Bound:
        if isinstance(selection, InlineFragmentNode):
            return self._bound(selection.selection_set)
        name = selection.name.value
        if name not in self._fragments:
            fragment = self.context.get_fragment(name)
            if fragment is None or name in self._visiting:
                return Bound(0, 0)  # unknown or cyclic: graphql-core reports it
            self._visiting.add(name)
            self._fragments[name] = self._bound(fragment.selection_set)
            self._visiting.discard(name)
        return self._fragments[name]
