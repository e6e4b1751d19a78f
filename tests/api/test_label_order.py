"""A view keeps the label order it was resolved with.

A model without --labels has the sorted union of its splits' labels, so an
ingest that brings a new label can shift every code after it: with labels
(A, C), C is code 1; once a split brings B they are (A, B, C) and C is 2. A
request that resolved the model before such an ingest and loads the split
after it must still count and report under (A, C), and the next request
under (A, B, C), each with the same counts per label.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api import split_cache
from evalql.api.app import create_app
from evalql.storage.datasets import SplitStore
from evalql.storage.ingest import IngestOptions, ingest_table

PAGE = """{ model(name: "m") { labels run(name: "v1") { split(name: "test") { metrics {
    total confusionMatrix { labels counts } perLabel { label support predicted tp }
    curve(label: "C", points: 2) { recall }
} } } } }"""

# A, C only: (actual, predicted) pairs.
ROWS = [("A", "A"), ("A", "C"), ("C", "C"), ("C", "C"), ("C", "A"), ("C", None)]


def table(rows: list[tuple[str, str | None]], prefix: str) -> pa.Table:
    return pa.table({
        "id": [f"{prefix}{i}" for i in range(len(rows))],
        "actual": [a for a, _ in rows],
        "predicted": pa.array([p for _, p in rows], pa.string()),
        "confidence": [None if p is None else 0.9 for _, p in rows],
    })


EXPECTED_AC = {
    "total": 6,
    "confusionMatrix": {"labels": ["A", "C", None], "counts": [[1, 1, 0], [1, 2, 1], [0, 0, 0]]},
    "perLabel": [
        {"label": "A", "support": 2, "predicted": 2, "tp": 1},
        {"label": "C", "support": 4, "predicted": 3, "tp": 2},
    ],
    "curve": [{"recall": 0.5}, {"recall": 0.0}],  # TP 2 of support 4, then none kept
}


@pytest.mark.parametrize("path", ["index", "scan"])
def test_a_request_counts_under_the_labels_it_resolved_while_an_ingest_adds_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(split_cache, "MODE", path)
    ingest_table(tmp_path, table(ROWS, "r"), "m", "v1", "test", IngestOptions(), source="ac")
    real_load = SplitStore.load
    ingested: list[str] = []

    def load_after_an_ingest(self: SplitStore, *args: object, **kwargs: object) -> object:
        # Between the request's resolution of the model (labels A, C) and its
        # first read of the split's rows, another run brings label B.
        if not ingested:
            ingested.append("v2")
            ingest_table(tmp_path, table([("B", "B")], "b"), "m", "v2", "test",
                         IngestOptions(), source="b")
        return real_load(self, *args, **kwargs)

    monkeypatch.setattr(SplitStore, "load", load_after_an_ingest)
    with TestClient(create_app(tmp_path)) as client:
        first = client.post("/graphql", json={"query": PAGE}).json()
        assert ingested == ["v2"]
        assert "errors" not in first, first
        model = first["data"]["model"]
        assert model["labels"] == ["A", "C"]
        assert model["run"]["split"]["metrics"] == EXPECTED_AC

        # The next request resolves (A, B, C): the same rows, B empty.
        second = client.post("/graphql", json={"query": PAGE}).json()
        assert "errors" not in second, second
        assert second["data"]["model"]["labels"] == ["A", "B", "C"]
        metrics = second["data"]["model"]["run"]["split"]["metrics"]
        assert metrics["confusionMatrix"] == {
            "labels": ["A", "B", "C", None],
            "counts": [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 2, 1], [0, 0, 0, 0]],
        }
        assert [p for p in metrics["perLabel"] if p["label"] != "B"] == EXPECTED_AC["perLabel"]
        assert metrics["curve"] == EXPECTED_AC["curve"]
