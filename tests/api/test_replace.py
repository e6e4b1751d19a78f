"""A replaced split is served fresh: no cache survives a replace."""

from __future__ import annotations

import pyarrow as pa

from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import Query, small_table

ACCURACY = '{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics(threshold: 0.5) { correct total } } } } }'


def test_a_query_after_replace_sees_the_new_data(gql: Query, store) -> None:
    before = gql(ACCURACY)["data"]["model"]["run"]["split"]["metrics"]
    assert before == {"correct": 2, "total": 8}
    table = small_table()
    table = table.set_column(2, "predicted", table.column("actual"))  # every answer right
    table = table.set_column(3, "confidence", pa.array([1.0] * 8))
    ingest_table(store, table, "m", "v1", "test", IngestOptions(replace=True), source="again")
    after = gql(ACCURACY)["data"]["model"]["run"]["split"]["metrics"]
    assert after == {"correct": 7, "total": 8}  # the unlabeled row is never correct
