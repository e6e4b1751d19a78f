"""Metadata types: every type ingest accepts is served by where, breakdown and
fields (or refused by where and breakdown as BAD_USER_INPUT); the rest are
refused at ingest with one line."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.errors import IngestError
from evalql.storage.ingest import ingest_table
from evalql.storage.metadata import stored_column

N = 6
NS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789


def base() -> dict[str, pa.Array]:
    return {
        "id": pa.array([f"r{i}" for i in range(N)]),
        "actual": pa.array(["A", "B", "A", "B", "A", None]),
        "predicted": pa.array(["A", "A", "B", "B", None, "A"]),
    }


def stored(array: pa.Array) -> pa.Array:
    return stored_column(pa.chunked_array([array]), "c", "preds").combine_chunks()


# input -> (stored type, the catalog's type name)
ACCEPTED: dict[str, tuple[pa.Array, pa.DataType, str]] = {
    "text": (pa.array(["x", "y"] * 3), pa.string(), "string"),
    "text_view": (pa.array(["x", "y"] * 3, pa.string_view()), pa.large_string(), "string"),
    "int8": (pa.array(range(N), pa.int8()), pa.int8(), "int"),
    "uint32": (pa.array(range(N), pa.uint32()), pa.uint32(), "int"),
    "uint64": (pa.array([0, 1, 2, 3, 4, 2**63 - 1], pa.uint64()), pa.int64(), "int"),
    "half": (pa.array(np.arange(N, dtype=np.float16)), pa.float32(), "float"),
    "double": (pa.array([0.5, 1.5, None, 3.5, 4.5, 5.5]), pa.float64(), "float"),
    "flag": (pa.array([True, False, None] * 2), pa.bool_(), "bool"),
    "seconds": (pa.array(range(N), pa.int64()).cast(pa.timestamp("s")), pa.timestamp("s"), "timestamp"),
    "millis_tz": (pa.array(range(N), pa.int64()).cast(pa.timestamp("ms", "Europe/Paris")),
                  pa.timestamp("ms", "Europe/Paris"), "timestamp"),
    "micros": (pa.array(range(N), pa.int64()).cast(pa.timestamp("us")), pa.timestamp("us"), "timestamp"),
    "nanos": (pa.array([NS + i for i in range(N)], pa.int64()).cast(pa.timestamp("ns")),
              pa.timestamp("us"), "timestamp"),
    "day": (pa.array([0, 1, None, 3, 4, 5], pa.int32()).cast(pa.date32()), pa.date32(), "date"),
    "day64": (pa.array([86_400_000 * i for i in range(N)], pa.int64()).cast(pa.date64()),
              pa.date32(), "date"),
    "coded_half": (pa.array(np.ones(N, dtype=np.float16)).dictionary_encode(), pa.float32(), "float"),
    "coded_text": (pa.array(["x"] * N).dictionary_encode(), pa.dictionary(pa.int32(), pa.string()),
                   "string"),
    "run_ends": (pa.RunEndEncodedArray.from_arrays([3, 6], ["a", "b"]), pa.string(), "string"),
    "uuid": (pa.array([b"0123456789abcdef"] * N, pa.uuid()), pa.binary(16), "other"),
    "record": (pa.array([{"t": NS}] * N, pa.struct([("t", pa.int64())]))
               .cast(pa.struct([("t", pa.timestamp("ns"))])),
               pa.struct([("t", pa.timestamp("us"))]), "other"),
    "tags": (pa.array([["a", "b"]] * N), pa.list_(pa.string()), "other"),
    "pairs": (pa.array([[("k", 1)]] * N, pa.map_(pa.string(), pa.int64())),
              pa.map_(pa.string(), pa.int64()), "other"),
    "price": (pa.array([Decimal(i) for i in range(N)], pa.decimal128(20, 2)),
              pa.decimal128(20, 2), "other"),
    "blob": (pa.array([b"x"] * N, pa.binary_view()), pa.large_binary(), "other"),
    "clock": (pa.array([1_000_000_001] * N, pa.time64("ns")), pa.time64("us"), "other"),
    "took": (pa.array([1_000_000_001] * N, pa.duration("ns")), pa.duration("us"), "other"),
    "nothing": (pa.nulls(N), pa.null(), "other"),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_each_accepted_type_is_stored_as_a_type_every_query_serves(name: str) -> None:
    array, stored_type, _ = ACCEPTED[name]
    assert stored(array).type == stored_type


def test_nanoseconds_become_microseconds_rounded_down_before_1970_too() -> None:
    ticks = pa.array([NS, -1, -1_000, None], pa.int64()).cast(pa.timestamp("ns", "UTC"))
    assert stored(ticks).cast(pa.int64()).to_pylist() == [NS // 1000, -1, -1, None]


def test_dates_of_64_bits_become_days_rounded_down() -> None:
    millis = pa.array([-1, 86_400_000 + 5, None], pa.int64()).cast(pa.date64())
    assert stored(millis).to_pylist() == [
        datetime.date(1969, 12, 31), datetime.date(1970, 1, 2), None,
    ]


@pytest.mark.parametrize(("array", "message"), [
    (pa.array([pa.MonthDayNano([1, 2, 3])] * 2, pa.month_day_nano_interval()),
     "type month_day_nano_interval cannot be stored"),
    (pa.UnionArray.from_sparse(pa.array([0, 0], pa.int8()), [pa.array([1, 2])]),
     "type sparse_union<0: int64=0> cannot be stored"),
    (pa.array([[1], [2]], pa.list_view(pa.int64())), "type list_view<item: int64> cannot be stored"),
    (pa.array([[pa.MonthDayNano([1, 2, 3])]] * 2, pa.list_(pa.month_day_nano_interval())),
     "type month_day_nano_interval cannot be stored"),
])
def test_a_type_no_query_could_serve_is_refused_with_the_column_and_type(
    array: pa.Array, message: str
) -> None:
    with pytest.raises(IngestError) as caught:
        stored(array)
    assert str(caught.value) == (
        f"preds: column 'c': {message} as metadata (no query could serve it); "
        "convert the column or leave it out"
    )


@pytest.mark.parametrize(("array", "message"), [
    (pa.array([1, 2**64 - 1], pa.uint64()), "column 'c', row 2: value 18446744073709551615 "
     "does not fit in int64 (uint64 columns are stored as int64)"),
    (pa.array([0, 300_000_000_000], pa.int64()).cast(pa.timestamp("s")), "column 'c', row 2: "
     "the time 300000000000 s since 1970-01-01 is outside the years 1 to 9999"),
    (pa.array([None, 2**62], pa.int64()).cast(pa.timestamp("us")), "column 'c', row 2: "
     "the time 4611686018427387904 us since 1970-01-01 is outside the years 1 to 9999"),
    (pa.array([2**31 - 1], pa.int32()).cast(pa.date32()), "column 'c', row 1: "
     "the time 2147483647 days since 1970-01-01 is outside the years 1 to 9999"),
    (pa.array([2**62], pa.int64()).cast(pa.date64()), "column 'c', row 1: "
     "the time 2147483647 days since 1970-01-01 is outside the years 1 to 9999"),
    (pa.array([0], pa.int64()).cast(pa.timestamp("s", "Mars/Olympus_Mons")),
     "column 'c': unknown time zone 'Mars/Olympus_Mons'"),
    (pa.array([[300_000_000_000]], pa.list_(pa.int64())).cast(pa.list_(pa.timestamp("s"))),
     "column 'c': a timestamp[s] value inside the list<item: timestamp[s]> is outside "
     "years 1 to 9999"),
])
def test_a_value_no_query_could_serve_is_refused_with_its_row(
    array: pa.Array, message: str
) -> None:
    with pytest.raises(IngestError) as caught:
        stored(array)
    assert str(caught.value) == f"preds: {message}"


# --- served through the API --------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("types")
    table = pa.table(base() | {name: array for name, (array, _, _) in ACCEPTED.items()})
    ingest_table(root, table, "m", "r", "s")
    with TestClient(create_app(root)) as c:
        yield c


def ask(client: TestClient, body: str) -> dict[str, Any]:
    query = '{ model(name: "m") { run(name: "r") { split(name: "s") { %s } } } }' % body
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    return response.json()


def outcome(answer: dict[str, Any]) -> str:
    if "errors" in answer:
        return answer["errors"][0]["extensions"]["code"]
    return "ok"


def test_the_catalog_names_each_stored_type(client: TestClient) -> None:
    answer = ask(client, "columns { name type }")
    columns = answer["data"]["model"]["run"]["split"]["columns"]
    assert {c["name"]: c["type"] for c in columns} == {
        name: kind for name, (_, _, kind) in ACCEPTED.items()
    }


@pytest.mark.parametrize("name", ACCEPTED)
def test_where_breakdown_and_fields_serve_every_accepted_type(
    client: TestClient, name: str
) -> None:
    kind = ACCEPTED[name][2]
    where = ask(client, 'metrics(where: [{column: "%s", %s}]) { total }' % (
        name, 'in: ["x", "a"]' if kind == "string" else 'in: ["true"]' if kind == "bool"
        else "gte: 1, lt: 1e300"))
    breakdown = ask(client, 'metrics { breakdown(column: "%s", bins: 3) { key count } }' % name)
    fields = ask(client, 'metrics { rows(first: 3) { nodes { fields(names: ["%s"]) } } }' % name)
    expected = "BAD_USER_INPUT" if kind == "other" else "ok"
    assert (outcome(where), outcome(breakdown), outcome(fields)) == (expected, expected, "ok")


def test_struct_and_list_columns_are_refused_by_where_and_breakdown_and_returned_as_json(
    client: TestClient,
) -> None:
    where = ask(client, 'metrics(where: [{column: "tags", isNull: false}]) { total }')
    assert where["errors"][0]["message"] == (
        "column 'tags' has type list<item: string>, which cannot be filtered"
    )
    breakdown = ask(client, 'metrics { breakdown(column: "record") { key } }')
    assert breakdown["errors"][0]["message"] == (
        'column "record" is of type other, which cannot be broken down'
    )
    rows = ask(client, 'metrics { rows(first: 1, orderBy: ID) { nodes { fields(names: '
                       '["record", "tags", "nanos", "pairs", "price"]) } } }')
    assert rows["data"]["model"]["run"]["split"]["metrics"]["rows"]["nodes"][0]["fields"] == {
        "record": {"t": "2023-11-14T22:13:20.123456"},
        "tags": ["a", "b"],
        "nanos": "2023-11-14T22:13:20.123456",
        "pairs": [["k", 1]],
        "price": "0.00",
    }


def test_a_refused_type_leaves_no_store_behind(tmp_path: Path) -> None:
    table = pa.table(base() | {"span": pa.array([pa.MonthDayNano([1, 2, 3])] * N)})
    with pytest.raises(IngestError):
        ingest_table(tmp_path / "store", table, "m", "r", "s")
    assert not (tmp_path / "store").exists()
