"""Deleting splits, runs and models: atomic in the catalog, files after the
commit, derived labels following what is left, readers undisturbed."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from evalql.storage import delete as delete_module
from evalql.storage.catalog import SPLITS_DIR, Catalog
from evalql.storage.datasets import SplitStore
from evalql.storage.delete import delete_model, delete_run, delete_split
from evalql.storage.ingest import IngestOptions, ingest_table
from evalql.storage.staging import find_orphans
from tests.storage.conftest import predictions, snapshot


@pytest.fixture
def stored(root: Path) -> Path:
    """m/v1/{test,val} and m/v2/test; m's labels are derived from its splits."""
    ingest_table(root, predictions(), "m", "v1", "test")
    ingest_table(root, predictions(actual=pa.array(["fox"] * 4)), "m", "v1", "val")
    ingest_table(root, predictions(), "m", "v2", "test")
    ingest_table(root, predictions(), "other", "v1", "test")
    return root


def _split_files(root: Path) -> set[str]:
    return {f"{SPLITS_DIR}/{name}" for name in os.listdir(root / SPLITS_DIR)}


def test_delete_split_removes_its_row_and_file_and_nothing_else(stored: Path) -> None:
    catalog = Catalog(stored)
    gone = catalog.split("m", "v1", "val")
    assert gone is not None
    deleted = delete_split(stored, "m", "v1", "val")
    assert str(deleted) == "deleted split m/v1/val (4 rows)"
    assert catalog.split("m", "v1", "val") is None
    assert [s.name for s in catalog.splits("m", "v1")] == ["test"]
    assert _split_files(stored) == catalog.paths()
    assert not (stored / gone.path).exists()


def test_derived_labels_follow_the_splits_that_are_left(stored: Path) -> None:
    catalog = Catalog(stored)
    assert "fox" in catalog.model("m").labels
    delete_split(stored, "m", "v1", "val")
    assert catalog.model("m").labels == ("bird", "cat", "dog")


def test_fixed_labels_never_change(root: Path) -> None:
    labels = ("bird", "cat", "dog", "emu")
    ingest_table(root, predictions(), "m", "v1", "test", IngestOptions(labels=labels))
    delete_run(root, "m", "v1")
    assert Catalog(root).model("m").labels == labels
    assert Catalog(root).runs("m") == []


def test_delete_run_removes_the_run_and_its_splits(stored: Path) -> None:
    deleted = delete_run(stored, "m", "v1")
    assert str(deleted) == "deleted run m/v1 (2 splits, 8 rows)"
    catalog = Catalog(stored)
    assert [r.name for r in catalog.runs("m")] == ["v2"]
    assert catalog.splits("m", "v1") == []
    assert _split_files(stored) == catalog.paths()


def test_delete_model_removes_everything_under_it(stored: Path) -> None:
    deleted = delete_model(stored, "m")
    assert str(deleted) == "deleted model m (2 runs, 3 splits, 12 rows)"
    catalog = Catalog(stored)
    assert [m.name for m in catalog.models()] == ["other"]
    assert catalog.runs("m") == []
    assert _split_files(stored) == catalog.paths()


@pytest.mark.parametrize("names", [
    ("split", ("m", "v1", "nope")), ("split", ("m", "nope", "test")), ("split", ("nope", "v1", "test")),
    ("run", ("m", "nope")), ("run", ("nope", "v1")), ("model", ("nope",)),
])
def test_deleting_what_is_not_there_is_none_and_changes_nothing(
    stored: Path, names: tuple[str, tuple[str, ...]]
) -> None:
    before = snapshot(stored)
    kind, args = names
    remove = {"split": delete_split, "run": delete_run, "model": delete_model}[kind]
    assert remove(stored, *args) is None
    assert snapshot(stored) == before


def test_a_failure_inside_the_transaction_deletes_nothing(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(stored)

    def broken(tx: object, model: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(delete_module, "_relabel", broken)
    with pytest.raises(Exception, match="No space left on device"):
        delete_run(stored, "m", "v1")
    assert snapshot(stored) == before


def test_a_file_that_cannot_be_unlinked_is_left_as_an_orphan_for_the_next_write(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = stored / Catalog(stored).split("m", "v2", "test").path
    real_unlink = Path.unlink

    def refuse(self: Path, missing_ok: bool = False) -> None:
        if self == path:
            raise PermissionError(13, "Permission denied")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    assert delete_run(stored, "m", "v2") is not None  # the delete stands
    monkeypatch.undo()
    catalog = Catalog(stored)
    assert catalog.run("m", "v2") is None
    assert find_orphans(catalog) == [path.relative_to(stored).as_posix()]
    delete_split(stored, "m", "v1", "val")  # any write sweeps it
    assert not path.exists()


def test_a_reader_that_loaded_the_split_keeps_its_data_after_the_delete(stored: Path) -> None:
    splits = SplitStore(stored)
    info = splits.catalog.split("m", "v1", "test")
    data = splits.load(info)
    ids, metadata = data.ids.to_pylist(), data.metadata.to_pylist()
    delete_model(stored, "m")
    assert not (stored / info.path).exists()
    # The mapping outlives the unlink: every page of the file still reads.
    assert data.ids.to_pylist() == ids and data.metadata.to_pylist() == metadata
    assert splits.catalog.model("m") is None  # the next lookup sees the delete


def test_a_store_without_the_model_still_ingests_it_afresh(stored: Path) -> None:
    delete_model(stored, "m")
    ingest_table(stored, predictions(), "m", "v1", "test")
    assert Catalog(stored).split("m", "v1", "test").version == 1
