"""Schema versions: a store written before them opens, and a write migrates it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from evalql.storage.catalog import CATALOG_FILE, Catalog
from evalql.storage.datasets import SplitStore
from evalql.storage.ingest import ingest_table
from evalql.storage.model import ModelInfo
from evalql.storage.schema import SCHEMA_VERSION
from tests.storage.conftest import predictions

# The catalog as evalql wrote it before schema versions (git show HEAD~20:storage/catalog.py):
# these tables, user_version 0, WAL mode.
OLD_SCHEMA = """
CREATE TABLE models (name TEXT PRIMARY KEY, task TEXT NOT NULL, labels TEXT NOT NULL,
    labels_fixed INTEGER NOT NULL);
CREATE TABLE runs (model TEXT NOT NULL REFERENCES models(name), name TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (model, name));
CREATE TABLE splits (model TEXT NOT NULL, run TEXT NOT NULL, name TEXT NOT NULL,
    row_count INTEGER NOT NULL, columns TEXT NOT NULL, version INTEGER NOT NULL,
    path TEXT NOT NULL, has_scores INTEGER NOT NULL, labels TEXT NOT NULL,
    PRIMARY KEY (model, run, name), FOREIGN KEY (model, run) REFERENCES runs(model, name));
"""
TABLES = ("models", "runs", "splits")
OLD_SPLIT_COLUMNS = ("model, run, name, row_count, columns, version, path, has_scores, labels")
OLD_RUN_COLUMNS = "model, name, created_at"


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A store with split m/r/s exactly as the code before schema versions left it."""
    scratch, root = tmp_path / "scratch", tmp_path / "old"
    ingest_table(scratch, predictions(), "m", "r", "s")
    (root / "splits").mkdir(parents=True)
    (root / "tmp").mkdir()
    with closing(sqlite3.connect(root / CATALOG_FILE, isolation_level=None)) as old, \
            closing(sqlite3.connect(scratch / CATALOG_FILE)) as new:
        old.execute("PRAGMA journal_mode=WAL")
        old.executescript(OLD_SCHEMA)
        for table, columns in (("models", "*"), ("runs", OLD_RUN_COLUMNS),
                               ("splits", OLD_SPLIT_COLUMNS)):
            for row in new.execute(f"SELECT {columns} FROM {table}"):
                old.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    for path in (scratch / "splits").iterdir():
        shutil.copy(path, root / "splits" / path.name)
    return root


def pragma(root: Path, name: str) -> object:
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def split_columns(root: Path) -> list[str]:
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(splits)")]


def test_a_new_store_is_at_the_current_schema_version_in_rollback_journal_mode(root: Path) -> None:
    Catalog(root)
    assert pragma(root, "user_version") == SCHEMA_VERSION == 3
    assert pragma(root, "journal_mode") == "delete"
    assert split_columns(root)[-1] == "checksum"


def test_every_store_gets_an_id_of_its_own_and_no_objects_location(tmp_path: Path) -> None:
    first, second = Catalog(tmp_path / "a"), Catalog(tmp_path / "b")
    ids = {first.setting("store_id"), second.setting("store_id")}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    assert first.setting("objects") is None


def test_a_store_written_before_schema_versions_opens_for_reading_unchanged(
    old_store: Path,
) -> None:
    before = (old_store / CATALOG_FILE).read_bytes()
    catalog = Catalog(old_store, create=False)
    info = catalog.split("m", "r", "s")
    assert info is not None and info.checksum is None and catalog.models()[0].name == "m"
    assert SplitStore(old_store).load(info).n_rows == 4
    assert catalog.setting("store_id") is None  # no settings table before version 2
    catalog.close()
    assert (old_store / CATALOG_FILE).read_bytes() == before
    assert pragma(old_store, "user_version") == 0


def test_the_first_write_migrates_an_old_store(old_store: Path) -> None:
    ingest_table(old_store, predictions(), "m", "r", "s2")
    assert pragma(old_store, "user_version") == SCHEMA_VERSION
    assert pragma(old_store, "journal_mode") == "delete"  # left WAL: readers need no side files
    catalog = Catalog(old_store, create=False)
    assert catalog.split("m", "r", "s").checksum is None  # ingested before checksums
    assert catalog.split("m", "r", "s2").checksum.startswith("sha256:")
    assert SplitStore(old_store).load(catalog.split("m", "r", "s")).n_rows == 4
    assert len(catalog.setting("store_id")) == 32
    assert catalog.run("m", "r").meta == {}  # runs.meta (version 3) is null for old runs


def test_a_failed_first_write_leaves_an_old_store_at_its_old_version(old_store: Path) -> None:
    with pytest.raises(RuntimeError), Catalog(old_store).transaction() as tx:
        tx.put_model(ModelInfo("other", "multiclass", ("a",), False))
        raise RuntimeError("disk on fire")
    assert pragma(old_store, "user_version") == 0
    assert "checksum" not in split_columns(old_store)
    assert Catalog(old_store).model("other") is None


def test_the_migration_is_one_transaction_that_a_reader_never_sees_half_done(
    old_store: Path,
) -> None:
    reader = Catalog(old_store, create=False)
    assert reader.schema_version() == 0
    with Catalog(old_store).transaction():
        pass
    assert reader.schema_version() == SCHEMA_VERSION
    assert reader.split("m", "r", "s").checksum is None


def test_a_store_from_a_newer_evalql_is_read_but_never_written(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        conn.execute("PRAGMA user_version = 99")
    assert Catalog(root, create=False).split("m", "r", "s") is not None
    with pytest.raises(Exception) as caught:
        ingest_table(root, predictions(), "m", "r", "s2")
    assert str(caught.value) == (
        f"the store's catalog has schema version 99, newer than this evalql's "
        f"{SCHEMA_VERSION}; upgrade evalql to write to it"
    )
    assert Catalog(root).split("m", "r", "s2") is None


def test_reads_see_a_commit_from_another_process_at_once(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    catalog = Catalog(root, create=False)
    assert [s.name for s in catalog.splits("m", "r")] == ["s"]
    code = (
        "from evalql.storage.ingest import ingest_table\n"
        "from tests.storage.conftest import predictions\n"
        f"ingest_table({str(root)!r}, predictions(), 'm', 'r2', 's')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
    assert [r.name for r in catalog.runs("m")] == ["r", "r2"]
    assert catalog.split("m", "r2", "s") is not None


def test_reads_write_nothing_not_even_a_side_file(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    files = sorted(p.name for p in root.iterdir())
    before = (root / CATALOG_FILE).stat()
    catalog = Catalog(root, create=False)
    store = SplitStore(root)
    for _ in range(3):
        assert catalog.models() and catalog.runs("m") and catalog.splits("m", "r")
        assert store.load(catalog.split("m", "r", "s")).n_rows == 4
    assert sorted(p.name for p in root.iterdir()) == files == ["catalog.sqlite", "splits", "tmp"]
    after = (root / CATALOG_FILE).stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_a_snapshot_is_read_again_only_after_a_commit(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    catalog = Catalog(root, create=False)
    first = catalog.snapshot()
    assert catalog.snapshot() is first
    ingest_table(root, predictions(), "m", "r", "s2")
    assert catalog.snapshot() is not first
    assert catalog.split("m", "r", "s2") is not None
