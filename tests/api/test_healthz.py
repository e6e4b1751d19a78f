"""/healthz: ok only while the store can be read and written, degraded (HTTP
503, with a reason naming no path) otherwise; checked at most once a second."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from evalql.api import health
from evalql.api.app import create_app
from evalql.storage.catalog import CATALOG_FILE, TMP_DIR


@pytest.fixture
def unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every /healthz checks the store again (else its answer is kept a second)."""
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.0)


def test_a_store_that_reads_and_writes_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_a_store_that_cannot_be_written_is_degraded_with_a_reason_and_no_path(
    store: Path, unchecked: None
) -> None:
    with TestClient(create_app(store)) as client:
        shutil.rmtree(store / TMP_DIR)
        (store / TMP_DIR).write_text("a file where a folder belongs")
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "degraded",
                                   "reason": "cannot write the store: Not a directory"}
        # Reads still work: degraded is not down.
        answer = client.post("/graphql", json={"query": "{ models { name } }"})
        assert answer.json() == {"data": {"models": [{"name": "m"}]}}
        (store / TMP_DIR).unlink()
        (store / TMP_DIR).mkdir()
        assert client.get("/healthz").json() == {"status": "ok"}


def test_a_catalog_that_cannot_be_read_is_degraded(store: Path, unchecked: None) -> None:
    with TestClient(create_app(store)) as client:
        (store / CATALOG_FILE).write_bytes(b"not a database" * 512)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded",
                               "reason": "cannot read the store: file is not a database"}
    assert str(store) not in response.text


def test_the_check_runs_at_most_once_a_second(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def counted(root: Path) -> tuple[bool, str | None]:
        calls.append(root)
        return True, None

    monkeypatch.setattr(health, "store_health", counted)
    with TestClient(create_app(store)) as client:
        for _ in range(20):
            assert client.get("/healthz").status_code == 200
    assert len(calls) == 1
