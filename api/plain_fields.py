"""Objects whose selected fields are all plain data, completed without per-field machinery.

graphql-core executes every field of every object alike: a path, a resolve
info, the resolver, completion of its value. For a per-label table that is
~20 us a field, and 10,000 labels x 11 fields took 2 s for data already
computed. When every field selected on an object is a plain attribute (a
strawberry field without a resolver, permission or extension) of a leaf type
(a scalar or an enum), the object's result is those attributes, serialized:
``PlainFieldsExecutor`` builds that dict directly. Anything else (a resolver,
arguments, an object type, a null for a non-null field, a value its scalar
refuses) goes the ordinary way, so answers and errors are unchanged.

A list of such objects is completed in one loop too, without graphql-core's
path, completion and field execution per item. A resolver can also hand the
list over column by column (``PlainRows``: a per-label table of 10,000
labels): its items are then never built, each column is serialized at once
(a column of ints, floats or strings already of the scalar's type and range
is its own serialization), and the rows are zipped from the columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
)
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_float,
    serialize_id,
    serialize_int,
    serialize_string,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")

# (response key, attribute, serialize, non-null) for each field of a plan;
# None for __typename, answered with the type's name.
Step = tuple[str, str | None, Callable[[Any], Any] | None, bool]

_NO_PLAN: tuple[Step, ...] = ()
# Plans kept, by (type, selected fields): far more than a front-end's
# documents select; the bound keeps a client sending endless new selections
# from growing the process-wide cache (past it, plans are made, not kept).
CACHED_PLANS = 10_000


def _plain_step(parent: GraphQLObjectType, key: str, details: Any) -> Step | None:
    """One field's step, or None when it is not a plain attribute of a leaf type."""
    node = details[0].node
    name = node.name.value
    if name == "__typename":
        return (key, None, None, True)
    if any(d.node.arguments or d.node.selection_set for d in details):
        return None
    field = parent.fields.get(name)
    if field is None or field.args:
        return None
    definition = (field.extensions or {}).get("strawberry-definition")
    if (
        definition is None
        or definition.base_resolver is not None
        or definition.extensions
        or definition.permission_classes
        or definition.python_name is None
    ):
        return None
    kind = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    leaf = kind.of_type if non_null else kind
    if not is_leaf_type(leaf):
        return None
    return (key, definition.python_name, leaf.serialize, non_null)


class PlainRows(Sequence[T], Generic[T]):
    """A list of objects given column by column: ``columns`` maps an
    attribute to its values, one a row; ``item(i)`` builds row ``i``'s
    object, which only a selection the columns cannot answer asks for."""

    def __init__(self, columns: dict[str, list[Any]], size: int,
                 item: Callable[[int], T]) -> None:
        self.columns = columns
        self.size = size
        self.item = item

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self.item(j) for j in range(self.size)[i]]
        if not -self.size <= i < self.size:
            raise IndexError(i)
        return self.item(i % self.size)

    def __iter__(self) -> Iterator[T]:
        return (self.item(i) for i in range(self.size))


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with plain-data objects completed in one loop."""

    # Plans by (type, selected fields): a document asks the same selection of
    # every row of a list, so it is planned once. Selections are bounded by
    # the documents' limits; the cache is per executor class, not per request.
    _plans: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Step, ...]] = {}

    def _plan(self, parent: GraphQLObjectType, grouped: Any) -> tuple[Step, ...]:
        # graphql-core collects a list's items' subfields once, so every item
        # brings the same grouped-field-set object: planned once a request.
        seen = self.__dict__.get("_seen")
        if seen is None:
            seen = self.__dict__["_seen"] = {}
        hit = seen.get(id(grouped))
        if hit is not None and hit[0] is grouped:
            return hit[1]
        key = (parent.name, tuple((k, d[0].node.name.value) for k, d in grouped.items()))
        plan = self._plans.get(key)
        if plan is None:
            steps = [_plain_step(parent, k, d) for k, d in grouped.items()]
            plan = _NO_PLAN if any(s is None for s in steps) else tuple(steps)  # type: ignore[arg-type]
            if len(self._plans) < CACHED_PLANS:
                self._plans[key] = plan
        seen[id(grouped)] = (grouped, plan)  # holds grouped: its id stays its own
        return plan

    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if path is not None else _NO_PLAN
        if plan:
            result = _complete(plan, parent_type.name, source_value)
            if result is not None:
                return result
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )


    def complete_list_value(  # type: ignore[override]
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        rows = self._plain_list(return_type, field_details_list, result)
        if rows is not None:
            return rows
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain_list(
        self, return_type: GraphQLList[Any], field_details_list: Any, result: Any
    ) -> list[dict[str, Any]] | None:
        """The completed list when its items are objects of a plain plan
        (None: the ordinary way, which also reports any error)."""
        if not isinstance(result, list | PlainRows):
            return None
        if any(d.node.directives for d in field_details_list):
            return None  # @stream, @defer: the ordinary way
        item_type = return_type.of_type
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType) or item_type.is_type_of is not None:
            return None
        grouped, new_defers, _ = self.collect_subfields(item_type, field_details_list)
        if new_defers:
            return None
        plan = self._plan(item_type, grouped)
        if not plan:
            return None
        if isinstance(result, PlainRows):
            return _complete_columns(plan, item_type.name, result)
        rows = []
        is_awaitable = self.is_awaitable
        for item in result:
            # A null or an awaitable item: the ordinary way, which knows both.
            if item is None or is_awaitable(item):
                return None
            try:
                row = _complete(plan, item_type.name, item)
            except AttributeError:  # not the type's object: the ordinary way reports it
                return None
            if row is None:
                return None
            rows.append(row)
        return rows


def _complete_columns(
    plan: tuple[Step, ...], type_name: str, rows: PlainRows[Any]
) -> list[dict[str, Any]] | None:
    """``rows`` completed by ``plan`` column by column; None when a field
    needs the ordinary way (a null where none is allowed, a value its scalar
    refuses) or an attribute has no column."""
    columns = []
    for _, attribute, serialize, non_null in plan:
        if attribute is None:
            columns.append([type_name] * rows.size)
            continue
        values = rows.columns.get(attribute)
        if values is None:
            return None
        assert serialize is not None
        values = _serialized(values, serialize, non_null)
        if values is None:
            return None
        columns.append(values)
    keys = [step[0] for step in plan]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


# The standard scalars, and the type whose values they give back unchanged.
_SAME: dict[Callable[[Any], Any], type] = {
    serialize_int: int,
    serialize_float: float,
    serialize_string: str,
    serialize_id: str,
    serialize_boolean: bool,
}


def _serialized(
    values: list[Any], serialize: Callable[[Any], Any], non_null: bool
) -> list[Any] | None:
    """A column serialized; None when one of its values needs the ordinary way."""
    kinds = set(map(type, values))
    if type(None) in kinds:
        if non_null:
            return None
        kinds.discard(type(None))
        present = [v for v in values if v is not None]
    else:
        present = values
    same = _SAME.get(serialize)
    if same is not None and kinds <= {same} and _as_is(same, present):
        return values
    out = []
    for value in values:
        if value is not None:
            try:
                value = serialize(value)
            except Exception:  # the ordinary way reports it, with its path
                return None
            if value is None:
                return None
        out.append(value)
    return out


def _as_is(kind: type, values: list[Any]) -> bool:
    """True when the scalar of ``kind`` serializes every one of ``values`` to
    itself: ints within GraphQL's 32 bits, finite floats."""
    if kind is int:
        return not values or (min(values) >= GRAPHQL_MIN_INT and max(values) <= GRAPHQL_MAX_INT)
    if kind is float:
        return all(map(math.isfinite, values))
    return True


def _complete(plan: tuple[Step, ...], type_name: str, source: Any) -> dict[str, Any] | None:
    """The object's result by ``plan``; None when a field needs the ordinary way
    (a null where none is allowed, or a value its scalar does not serialize)."""
    out: dict[str, Any] = {}
    for key, attribute, serialize, non_null in plan:
        if attribute is None:
            out[key] = type_name
            continue
        value = getattr(source, attribute)
        if value is None:
            if non_null:
                return None
            out[key] = None
            continue
        try:
            value = serialize(value)  # type: ignore[misc]
        except Exception:  # the ordinary way reports it, with its path
            return None
        if value is None:
            return None
        out[key] = value
    return out
