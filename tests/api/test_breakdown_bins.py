"""A breakdown's bins agree with their own filters, row for row, for any integers.

A row is in bin b exactly when the bin's own ``where`` (``gte: low`` and
``lt: high``, ``lte`` for the last bin) selects it: both compare integers
exactly, also above 2**53, where a float64 cast would round (every
nanosecond timestamp lives there).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table

BIG = 2**53

BREAKDOWN = """query($bins: Int!) { model(name: "m") { run(name: "r") { split(name: "s") {
    metrics { total breakdown(column: "v", bins: $bins) { key low high count } } } } } }"""

SLICE = """query($where: [RowFilter!]) { model(name: "m") { run(name: "r") { split(name: "s") {
    metrics(where: $where) { total } } } } }"""

integers = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(BIG - 50, BIG + 50),
    st.integers(-1000, 1000),
)


def _ask(client: TestClient, query: str, variables: dict) -> dict:
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body
    return body["data"]["model"]["run"]["split"]["metrics"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(integers, min_size=1, max_size=40), bins=st.integers(1, 7))
# 2**53 + 3 rounds to 2**53 + 4 as a float64: the edge 2**53 + 4 then splits them.
@example(values=[BIG + 3, BIG + 4, BIG + 6], bins=2)
# float(2**63 - 1) is 2**63, one past int64: the last bin's bound is clamped.
@example(values=[2**63 - 1, -(2**63), 0], bins=3)
def test_every_row_is_in_the_bin_whose_own_filter_selects_it(values: list[int], bins: int) -> None:
    n = len(values)
    table = pa.table({
        "id": [f"r{i}" for i in range(n)],
        "actual": ["a"] * n, "predicted": ["a"] * n,
        "v": pa.array(values, pa.int64()),
    })
    with tempfile.TemporaryDirectory() as root:
        ingest_table(Path(root), table, "m", "r", "s", IngestOptions(), source="t")
        with TestClient(create_app(Path(root))) as client:
            slices = _ask(client, BREAKDOWN, {"bins": bins})["breakdown"]
            assert sum(s["count"] for s in slices) == n
            binned = [s for s in slices if s["low"] is not None]
            for i, s in enumerate(binned):
                upper = "lte" if i == len(binned) - 1 else "lt"
                where = [{"column": "v", "gte": s["low"], upper: s["high"]}]
                assert _ask(client, SLICE, {"where": where})["total"] == s["count"], s
