"""api/plain_fields.py: lists of plain objects, and lists given column by
column, answer exactly what graphql-core's ordinary execution answers,
errors included."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest
import strawberry

from evalql.api.plain_fields import PlainFieldsExecutor, PlainRows


@strawberry.enum
class Kind(enum.Enum):
    A = "a"
    B = "b"


@strawberry.type
class Row:
    name: str
    count: int
    share: float | None
    flag: bool
    kind: Kind
    note: str | None = None

    @strawberry.field
    def double(self) -> int:
        return 2 * self.count


def rows_of(values: list[dict[str, Any]]) -> list[Row]:
    return [Row(**v) for v in values]


def columns_of(values: list[dict[str, Any]]) -> PlainRows[Row]:
    names = ["name", "count", "share", "flag", "kind", "note"]
    columns = {n: [v.get(n) for v in values] for n in names}
    return PlainRows(columns, len(values), lambda i: Row(**values[i]))


GOOD = [
    {"name": "a", "count": 3, "share": 0.5, "flag": True, "kind": Kind.A},
    {"name": "b", "count": -(2**31), "share": None, "flag": False, "kind": Kind.B, "note": "x"},
    {"name": "c", "count": 2**31 - 1, "share": 1e300, "flag": True, "kind": Kind.A},
]
EDGES = {
    "good": GOOD,
    "empty": [],
    "int past 32 bits": [*GOOD, {**GOOD[0], "count": 2**31}],
    "null in a non-null field": [*GOOD, {**GOOD[0], "name": None}],
    "infinite float": [*GOOD, {**GOOD[0], "share": float("inf")}],
    "bool where an int is": [*GOOD, {**GOOD[0], "count": True}],
    "int where a float is": [*GOOD, {**GOOD[0], "share": 7}],
    "float where an int is": [*GOOD, {**GOOD[0], "count": 4.0}],
}

CASE: dict[str, list[dict[str, Any]]] = {}


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return rows_of(CASE["values"])

    @strawberry.field
    def columns(self) -> list[Row]:
        return columns_of(CASE["values"])  # type: ignore[return-value]

    @strawberry.field
    def nullable_items(self) -> list[Row | None]:
        return [None, *rows_of(CASE["values"])]

    @strawberry.field
    async def awaited_items(self) -> list[Row]:
        async def row(values: dict[str, Any]) -> Row:
            return Row(**values)

        return [row(v) for v in CASE["values"]]  # type: ignore[misc]

    @strawberry.field
    def no_items(self) -> list[Row]:
        def item(i: int) -> Row:
            raise AssertionError("a plain selection builds no item")

        rows = columns_of(CASE["values"])
        return PlainRows(rows.columns, rows.size, item)  # type: ignore[return-value]


plain = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutor)
ordinary = strawberry.Schema(query=Query)

SELECTIONS = [
    "{ %s { name count share flag kind note } }",
    "{ %s { __typename n: name count c: count share } }",
    "{ %s { name double } }",  # a resolver: the ordinary way
    "{ %s { kind ... on Row { flag } } }",
]


def answer(schema: strawberry.Schema, query: str) -> tuple[Any, list[Any]]:
    result = asyncio.run(schema.execute(query))
    errors = [(e.message, e.path) for e in result.errors or []]
    return result.data, errors


@pytest.mark.parametrize("edge", list(EDGES))
@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("field", ["rows", "columns", "nullableItems", "awaitedItems"])
def test_plain_lists_answer_as_the_ordinary_execution_does(
    edge: str, selection: str, field: str
) -> None:
    CASE["values"] = EDGES[edge]
    query = selection % field
    assert answer(plain, query) == answer(ordinary, query)


def test_a_plain_selection_of_columns_builds_no_item() -> None:
    CASE["values"] = GOOD
    data, errors = answer(plain, "{ noItems { __typename name count share flag kind note } }")
    assert not errors
    assert data["noItems"][1] == {"__typename": "Row", "name": "b", "count": -(2**31),
                                  "share": None, "flag": False, "kind": "B", "note": "x"}


def test_plain_rows_build_their_items_only_when_asked() -> None:
    built: list[int] = []

    def item(i: int) -> int:
        built.append(i)
        return i * 10

    rows = PlainRows({"x": [0, 1, 2]}, 3, item)
    assert len(rows) == 3 and built == []
    assert list(rows) == [0, 10, 20] and rows[-1] == 20 and rows[1:] == [10, 20]
    with pytest.raises(IndexError):
        rows[3]
