"""A small store with hand-checked numbers, and a TestClient over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api import split_cache
from evalql.api.app import create_app
from evalql.storage.ingest import IngestOptions, ingest_table

# id, actual, predicted, confidence, channel, length
ROWS = [
    ("r0", "A", "A", 0.9, "email", 10),
    ("r1", "A", "B", 0.6, "chat", 20),
    ("r2", "B", "B", 0.8, "email", 30),
    ("r3", "B", None, None, "chat", 40),
    ("r4", None, "A", 0.7, "email", 50),
    ("r5", "C", "C", 0.4, "chat", 60),
    ("r6", "C", "A", 0.95, "email", 70),
    ("r7", "A", "A", 0.3, "chat", 80),
]


def small_table() -> pa.Table:
    columns = list(zip(*ROWS, strict=True))
    return pa.table(
        {
            "id": pa.array(columns[0]),
            "actual": pa.array(columns[1], pa.string()),
            "predicted": pa.array(columns[2], pa.string()),
            "confidence": pa.array(columns[3], pa.float64()),
            "channel": pa.array(columns[4]),
            "length": pa.array(columns[5], pa.int64()),
        }
    )


@pytest.fixture(params=["index", "scan"])
def index_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Answer through the split's indexes ("index": wait for them) or never
    ("scan"), so a test covers both paths whatever the threads' timing.

    A module parametrizes all its tests with
    ``pytestmark = pytest.mark.usefixtures("index_path")``.
    """
    monkeypatch.setattr(split_cache, "MODE", request.param)
    return request.param


@pytest.fixture
def store(tmp_path: Path) -> Path:
    ingest_table(tmp_path, small_table(), "m", "v1", "test", IngestOptions(), source="small")
    return tmp_path


@pytest.fixture
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as c:
        yield c


Query = Callable[..., dict[str, Any]]


@pytest.fixture
def gql(client: TestClient) -> Query:
    """Post a query; return the whole response body (data and errors)."""

    def run(query: str, **variables: Any) -> dict[str, Any]:
        response = client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response.json()

    return run
