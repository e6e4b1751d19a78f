"""The static cost of a breakdown (api/cost.py): a string column is charged
the most slices it can make (its number of values as ingest recorded it, at
most 1,000), not a guess, so nested string breakdowns over many-valued
columns are refused before anything runs; number columns are charged their
bins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.views import breakdown as breakdowns
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import Query

SPLIT = '{ model(name: "m") { run(name: "v1") { split(name: "test") { %s } } } }'
NESTED = SPLIT % """metrics { breakdown(column: "user") { key metrics {
    breakdown(column: "user") { key count } } } }"""
ROWS = 3_000


@pytest.fixture(scope="module")
def many_valued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Query]:
    """A split whose string column ``user`` has 1,500 values (two rows each)."""
    store = tmp_path_factory.mktemp("many")
    table = pa.table({
        "id": [f"r{i}" for i in range(ROWS)],
        "actual": ["A" if i % 3 else "B" for i in range(ROWS)],
        "predicted": ["A" if i % 2 else "B" for i in range(ROWS)],
        "confidence": [0.5 + (i % 50) / 100 for i in range(ROWS)],
        "user": [f"u{i // 2}" for i in range(ROWS)],
        "length": list(range(ROWS)),
        "flag": [i % 2 == 0 for i in range(ROWS)],
    })
    ingest_table(store, table, "m", "v1", "test", IngestOptions(), source="many")
    with TestClient(create_app(Path(store))) as client:
        def run(query: str, **variables: object) -> dict:
            response = client.post("/graphql", json={"query": query, "variables": variables})
            assert response.status_code == 200, response.text
            return response.json()

        yield run


def test_two_nested_string_breakdowns_are_refused_before_they_run(
    many_valued: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    real = breakdowns.breakdown

    async def counting(*args: object) -> object:
        made.append(args)
        return await real(*args)

    monkeypatch.setattr(breakdowns, "breakdown", counting)
    body = many_valued(NESTED)
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["COST_LIMIT"]
    assert "estimated cost" in body["errors"][0]["message"]
    assert made == []  # refused at validation: not one breakdown was computed


def test_a_string_breakdown_is_charged_the_most_slices_it_can_make(many_valued: Query) -> None:
    # 1,000 slices + null, each with a view: about 2,000 of the 5,000 allowed.
    one = SPLIT % 'metrics { breakdown(column: "user") { key metrics { total } } }'
    body = many_valued(one)
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT"
    assert "1,500 distinct values" in body["errors"][0]["message"]  # refused as it runs


def test_number_and_bool_breakdowns_are_charged_their_bins_and_nest(many_valued: Query) -> None:
    nested = SPLIT % """metrics { breakdown(column: "flag") { key metrics {
        breakdown(column: "length", bins: 20) { count metrics { total } } } } }"""
    body = many_valued(nested)
    assert "errors" not in body, body
    slices = body["data"]["model"]["run"]["split"]["metrics"]["breakdown"]
    assert sum(b["count"] for s in slices for b in s["metrics"]["breakdown"]) == ROWS


def test_a_column_given_as_a_variable_counts_as_a_string_column(many_valued: Query) -> None:
    nested = """query($c: String!) { model(name: "m") { run(name: "v1") { split(name: "test") {
        metrics { breakdown(column: "length") { metrics { breakdown(column: $c) { count } } } }
    } } } }"""
    # 1 + 11 x (1 + 1 + 1,001); with the literal "length" it is 1 + 11 x (1 + 1 + 11).
    body = many_valued(nested, c="length")
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT"
    assert "estimated cost 11,034" in body["errors"][0]["message"]
    literal = nested.replace("($c: String!)", "").replace("$c", '"length"')
    assert "errors" not in many_valued(literal), many_valued(literal)


def test_a_cached_document_is_costed_again_when_the_catalog_gains_a_string_column(
    tmp_path: Path,
) -> None:
    table = pa.table({"id": ["a", "b"], "actual": ["A", "B"], "predicted": ["A", "A"],
                      "confidence": [0.9, 0.8]})
    ingest_table(tmp_path, table, "m", "v1", "test", IngestOptions(), source="plain")
    nested = SPLIT % """metrics { breakdown(column: "tag") { metrics {
        breakdown(column: "tag") { count } } } }"""
    with TestClient(create_app(tmp_path)) as client:
        def ask() -> dict:
            return client.post("/graphql", json={"query": nested}).json()

        # No split has "tag": priced at its bins, and refused as it runs.
        assert ask()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        many = 1_200
        tagged = pa.table({"id": [f"t{i}" for i in range(many)], "actual": ["A"] * many,
                           "predicted": ["A"] * many, "confidence": [0.9] * many,
                           "tag": [f"x{i}" for i in range(many)]})
        ingest_table(tmp_path, tagged, "m", "v2", "test", IngestOptions(), source="tagged")
        assert ask()["errors"][0]["extensions"]["code"] == "COST_LIMIT"


def test_nested_breakdowns_of_a_few_valued_string_column_pass(gql: Query) -> None:
    # channel has 2 values: 1 + 3 x (1 + 1 + 3) = 16, where 1,000 values would be 10⁶.
    nested = SPLIT % """metrics { breakdown(column: "channel") { key metrics {
        breakdown(column: "channel") { key count } } } }"""
    body = gql(nested)
    assert "errors" not in body, body
    slices = body["data"]["model"]["run"]["split"]["metrics"]["breakdown"]
    assert [[(b["key"], b["count"]) for b in s["metrics"]["breakdown"]] for s in slices] == [
        [("chat", 4)], [("email", 4)],
    ]


def test_a_split_ingested_before_the_count_was_kept_costs_1000_a_string_column(
    tmp_path: Path,
) -> None:
    import sqlite3

    table = pa.table({"id": ["a", "b"], "actual": ["A", "B"], "predicted": ["A", "A"],
                      "confidence": [0.9, 0.8], "tag": ["x", "y"]})
    ingest_table(tmp_path, table, "m", "v1", "test", IngestOptions(), source="old")
    with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:  # as an older ingest wrote it
        conn.execute("""UPDATE splits SET columns = '[["tag", "string"]]'""")
    nested = SPLIT % """metrics { breakdown(column: "tag") { metrics {
        breakdown(column: "tag") { count } } } }"""
    with TestClient(create_app(tmp_path)) as client:
        body = client.post("/graphql", json={"query": nested}).json()
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT"
