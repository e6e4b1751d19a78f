"""schema.graphql is generated from the code; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from evalql.api.schema import schema


def test_schema_graphql_matches_the_code() -> None:
    stored = (Path(__file__).parent.parent / "schema.graphql").read_text()
    assert stored == schema.as_str() + "\n", "schema.graphql is stale: run `make schema`"
