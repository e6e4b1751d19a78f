"""store_health: ok only when the store can be read and written, else one reason."""

from __future__ import annotations

import os
from pathlib import Path

from evalql.storage.catalog import CATALOG_FILE
from evalql.storage.health import store_health
from evalql.storage.ingest import ingest_table
from tests.storage.conftest import predictions, snapshot


def test_a_store_that_can_be_read_and_written_is_healthy_and_left_as_it_was(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    before = snapshot(root)
    assert store_health(root) == (True, None)
    assert snapshot(root) == before


def test_a_folder_without_a_store_is_not_healthy(tmp_path: Path) -> None:
    assert store_health(tmp_path / "typo") == (
        False,
        f"no evalql store at {(tmp_path / 'typo').resolve()} "
        "(create one with 'evalql ingest' or 'evalql demo')",
    )


def test_an_unreadable_catalog_is_not_healthy(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    (root / CATALOG_FILE).write_bytes(b"garbage" * 1000)
    assert store_health(root) == (
        False, f"cannot read the store at {root.resolve()}: file is not a database"
    )


def test_a_store_that_cannot_be_written_is_not_healthy(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    os.rmdir(root / "tmp")
    (root / "tmp").write_bytes(b"")  # not a folder: nothing can be created in it
    assert store_health(root) == (
        False, f"cannot write the store at {root.resolve()}: Not a directory"
    )
