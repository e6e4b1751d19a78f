"""The SQLite catalog: ordering, absence, and what ingest records."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pyarrow as pa
import pytest

from evalql.storage.catalog import Catalog
from evalql.storage.errors import StoreNotFound
from evalql.storage.ingest import ingest_table
from evalql.storage.model import ColumnInfo
from tests.storage.conftest import predictions


def test_a_new_catalog_is_empty_and_creates_the_store_layout(root: Path) -> None:
    catalog = Catalog(root)
    assert catalog.is_empty() and catalog.models() == []
    assert sorted(p.name for p in root.iterdir()) == ["catalog.sqlite", "splits", "tmp"]


def test_opening_without_create_refuses_a_folder_that_holds_no_store(tmp_path: Path) -> None:
    missing, empty = tmp_path / "typo", tmp_path / "empty"
    empty.mkdir()
    for folder in (missing, empty):
        with pytest.raises(StoreNotFound) as caught:
            Catalog(folder, create=False)
        assert str(caught.value) == (
            f"no evalql store at {folder.resolve()} "
            "(create one with 'evalql ingest' or 'evalql demo')"
        )
    assert not missing.exists() and list(empty.iterdir()) == []


def test_opening_without_create_reads_an_existing_store(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    assert [model.name for model in Catalog(root, create=False).models()] == ["m"]


def test_unknown_names_are_none(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    catalog = Catalog(root)
    assert catalog.model("x") is None
    assert catalog.run("m", "x") is None
    assert catalog.split("m", "r", "x") is None
    assert catalog.runs("x") == [] and catalog.splits("m", "x") == []


def test_models_sort_by_name_and_splits_by_name(root: Path) -> None:
    for model, split in (("zeta", "test"), ("alpha", "train"), ("alpha", "test")):
        ingest_table(root, predictions(), model, "r", split)
    catalog = Catalog(root)
    assert [m.name for m in catalog.models()] == ["alpha", "zeta"]
    assert [s.name for s in catalog.splits("alpha", "r")] == ["test", "train"]
    assert not catalog.is_empty()


def test_runs_sort_by_creation_time_and_keep_it(root: Path) -> None:
    for run in ("v2", "v1", "v3"):
        ingest_table(root, predictions(), "m", run, "s")
    ingest_table(root, predictions(), "m", "v2", "other")  # an existing run keeps its time
    runs = Catalog(root).runs("m")
    assert [r.name for r in runs] == ["v2", "v1", "v3"]
    assert all(r.created_at.tzinfo == UTC for r in runs)


def test_a_split_records_rows_columns_version_and_path(root: Path) -> None:
    table = predictions(flagged=None, extra=pa.array([[1]] * 4))
    ingest_table(root, table, "m", "r", "s")
    info = Catalog(root).split("m", "r", "s")
    assert info.row_count == 4 and info.version == 1 and not info.has_scores
    assert info.columns == (
        # A string column's number of values (nulls aside), for the cost of a breakdown.
        ColumnInfo("region", "string", 2), ColumnInfo("tokens", "int"),
        ColumnInfo("score", "float"),
        ColumnInfo("seen_at", "timestamp"), ColumnInfo("extra", "other"),
    )
    assert info.path.startswith("splits/") and (root / info.path).is_file()
