"""/healthz: ok only while the store can be read and written, degraded (HTTP
503, with a reason naming no path) otherwise; checked at most once a second,
in the background, so no answer waits for the disk."""

from __future__ import annotations

import shutil
import time
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
        # The answer is the latest check's: the request after a repair starts
        # a check, and one of the next few answers reports it.
        assert _eventually_ok(client)


def _eventually_ok(client: TestClient) -> bool:
    for _ in range(100):
        if client.get("/healthz").json() == {"status": "ok"}:
            return True
        time.sleep(0.02)
    return False


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


def test_no_answer_but_the_first_waits_for_a_check(
    store: Path, monkeypatch: pytest.MonkeyPatch, unchecked: None
) -> None:
    def slow(root: Path) -> tuple[bool, str | None]:
        time.sleep(0.5)
        return True, None

    with TestClient(create_app(store)) as client:
        client.get("/healthz")  # the first answer needs a first check
        monkeypatch.setattr(health, "store_health", slow)
        started = time.perf_counter()
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
        assert time.perf_counter() - started < 0.4
