"""Query.compare: two splits joined on id, what the candidate fixed and broke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table
from tests.api.conftest import small_table
from tests.api.test_rows import error_code, random_table

# Every test runs on the index path and on the scan path (conftest.index_path).
pytestmark = pytest.mark.usefixtures("index_path")

# The candidate of conftest.ROWS: ids shuffled, r2 missing, r8 new.
CANDIDATE = [
    ("r7", "A", "A", 0.8),
    ("r6", "C", "C", 0.9),
    ("r5", "C", "C", 0.45),
    ("r4", None, "A", 0.9),
    ("r3", "B", "B", 0.6),
    ("r1", "A", "B", 0.9),
    ("r0", "A", "B", 0.9),
    ("r8", "A", "A", 0.9),
]

COMPARE = """query($b: SplitRef!, $c: SplitRef!, $t: Float!, $change: Change!, $first: Int!, $after: String) {
  compare(baseline: $b, candidate: $c, threshold: $t) {
    baseline { accuracy } candidate { accuracy } fixed regressed
    rows(change: $change, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id actual predicted correct baseline { id predicted correct } }
    }
  }
}"""

V1 = {"model": "m", "run": "v1", "split": "test"}
V2 = {"model": "m", "run": "v2", "split": "test"}


def table_of(rows: list[tuple]) -> pa.Table:
    ids, actual, predicted, confidence = zip(*rows, strict=True)
    return pa.table({
        "id": pa.array(ids), "actual": pa.array(actual, pa.string()),
        "predicted": pa.array(predicted, pa.string()), "confidence": pa.array(confidence),
    })


def client_for(root: Path, tables: dict[str, pa.Table]) -> TestClient:
    for run, table in tables.items():
        ingest_table(root, table, "m", run, "test", IngestOptions(labels=("A", "B", "C", "D")))
    return TestClient(create_app(root))


@pytest.fixture
def compare(tmp_path: Path) -> Iterator[Any]:
    with client_for(tmp_path, {"v1": small_table(), "v2": table_of(CANDIDATE)}) as client:

        def run(**variables: Any) -> dict[str, Any]:
            defaults = {"b": V1, "c": V2, "t": 0.5, "change": "FIXED", "first": 50, "after": None}
            body = {"query": COMPARE, "variables": defaults | variables}
            return client.post("/graphql", json=body).json()

        yield run


def test_fixed_and_regressed_rows_are_joined_on_id(compare: Any) -> None:
    c = compare()["data"]["compare"]
    assert (c["baseline"]["accuracy"], c["candidate"]["accuracy"]) == (0.25, 0.5)
    assert (c["fixed"], c["regressed"]) == (3, 1)
    assert c["rows"]["totalCount"] == 3
    assert c["rows"]["nodes"][0] == {
        "id": "r3", "actual": "B", "predicted": "B", "correct": True,
        "baseline": {"id": "r3", "predicted": None, "correct": False},
    }
    assert [n["id"] for n in c["rows"]["nodes"]] == ["r3", "r6", "r7"]  # baseline order
    regressed = compare(change="REGRESSED")["data"]["compare"]["rows"]["nodes"]
    assert regressed == [{"id": "r0", "actual": "A", "predicted": "B", "correct": False,
                          "baseline": {"id": "r0", "predicted": "A", "correct": True}}]


def test_the_threshold_applies_to_both_splits(compare: Any) -> None:
    c = compare(t=0.0)["data"]["compare"]
    assert (c["fixed"], c["regressed"]) == (2, 1)  # r5 and r7 are right in both at 0


def test_changed_rows_page_with_cursors(compare: Any) -> None:
    first = compare(first=2)["data"]["compare"]["rows"]
    assert [n["id"] for n in first["nodes"]] == ["r3", "r6"] and first["pageInfo"]["hasNextPage"]
    rest = compare(first=2, after=first["pageInfo"]["endCursor"])["data"]["compare"]["rows"]
    assert [n["id"] for n in rest["nodes"]] == ["r7"] and not rest["pageInfo"]["hasNextPage"]
    foreign = compare(change="REGRESSED", after=first["pageInfo"]["endCursor"])
    assert error_code(foreign) == "BAD_USER_INPUT"


def test_a_split_compared_with_itself_changes_nothing(compare: Any) -> None:
    c = compare(c=V1)["data"]["compare"]
    assert (c["fixed"], c["regressed"], c["rows"]["nodes"]) == (0, 0, [])


@pytest.mark.parametrize("ref, code", [
    ({"model": "nope", "run": "v1", "split": "test"}, "NOT_FOUND"),
    ({"model": "m", "run": "nope", "split": "test"}, "NOT_FOUND"),
    ({"model": "m", "run": "v1", "split": "nope"}, "NOT_FOUND"),
])
def test_unknown_splits_are_not_found(compare: Any, ref: dict, code: str) -> None:
    assert error_code(compare(c=ref)) == code
    assert error_code(compare(b=ref)) == code


def test_bad_threshold_and_first_are_bad_user_input(compare: Any) -> None:
    assert error_code(compare(t=1.5)) == "BAD_USER_INPUT"
    assert error_code(compare(first=0)) == "BAD_USER_INPUT"


def test_runs_over_the_same_rows_match_a_numpy_count(tmp_path: Path) -> None:
    base = random_table(5, n=500)
    rng = np.random.default_rng(6)
    predicted = np.array(base["predicted"].to_pylist(), dtype=object)
    flip = rng.random(len(predicted)) < 0.3
    predicted[flip] = rng.choice(["A", "B", "C", "D"], flip.sum())
    cand = base.set_column(2, "predicted", pa.array(predicted.tolist(), pa.string()))
    with client_for(tmp_path, {"v1": base, "v2": cand}) as client:
        body = client.post("/graphql", json={"query": COMPARE, "variables": {
            "b": V1, "c": V2, "t": 0.7, "change": "FIXED", "first": 1000}}).json()
    c = body["data"]["compare"]
    actual = np.array(base["actual"].to_pylist(), dtype=object)
    kept = base["confidence"].to_numpy().astype(np.float32) >= np.float32(0.7)
    was = kept & (np.array(base["predicted"].to_pylist(), dtype=object) == actual) & (actual != None)  # noqa: E711
    now = kept & (predicted == actual) & (actual != None)  # noqa: E711
    assert (c["fixed"], c["regressed"]) == (int((now & ~was).sum()), int((was & ~now).sum()))
    ids = np.array(base["id"].to_pylist())
    assert [n["id"] for n in c["rows"]["nodes"]] == ids[now & ~was].tolist()
