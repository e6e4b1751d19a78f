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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

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
