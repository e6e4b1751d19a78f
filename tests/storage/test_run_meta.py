"""Run metadata: stored at ingest, merged by later ingests, kept through
migrations; a store written before version 3 opens with {} for every run."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from evalql.storage import run_meta
from evalql.storage.catalog import CATALOG_FILE, Catalog
from evalql.storage.delete import delete_run
from evalql.storage.errors import IngestError
from evalql.storage.ingest import IngestOptions, ingest_table
from evalql.storage.schema import SCHEMA_VERSION
from tests.storage.conftest import predictions


def ingest(root: Path, run: str = "r", split: str = "s", **meta: object) -> None:
    options = IngestOptions(run_meta=meta, replace=True)
    ingest_table(root, predictions(), "m", run, split, options, source="preds.csv")


def meta_of(root: Path, run: str = "r") -> dict[str, object]:
    found = Catalog(root, create=False).run("m", run)
    assert found is not None
    return dict(found.meta)


def test_a_run_without_metadata_has_an_empty_one(root: Path) -> None:
    ingest(root)
    assert meta_of(root) == {}


def test_metadata_given_at_ingest_is_stored_with_its_json_types(root: Path) -> None:
    ingest(root, commit="ab12cd3", lr=0.001, epochs=3, frozen=False, note="first try")
    assert meta_of(root) == {
        "commit": "ab12cd3", "lr": 0.001, "epochs": 3, "frozen": False, "note": "first try",
    }


def test_a_later_ingest_into_the_run_merges_keys_and_the_later_value_wins(root: Path) -> None:
    ingest(root, "r", "training", commit="ab12", lr="0.1")
    ingest(root, "r", "validation", lr="0.01", description="warm restart")
    assert meta_of(root) == {"commit": "ab12", "lr": "0.01", "description": "warm restart"}
    ingest(root, "r", "validation")  # a replace without metadata keeps it
    assert meta_of(root) == {"commit": "ab12", "lr": "0.01", "description": "warm restart"}


def test_a_null_value_removes_its_key(root: Path) -> None:
    ingest(root, commit="ab12", note="x")
    ingest(root, note=None)
    assert meta_of(root) == {"commit": "ab12"}


def test_each_run_keeps_its_own_metadata_and_a_deleted_run_takes_it_along(root: Path) -> None:
    ingest(root, "v1", commit="aaa")
    ingest(root, "v2", commit="bbb")
    assert (meta_of(root, "v1"), meta_of(root, "v2")) == ({"commit": "aaa"}, {"commit": "bbb"})
    delete_run(root, "m", "v1")
    ingest(root, "v1")
    assert meta_of(root, "v1") == {}


@pytest.mark.parametrize(
    ("meta", "problem"),
    [
        (["a=1"], "run metadata has to be an object of key → value, not a list"),
        ({"": "x"}, "run metadata has an empty key"),
        ({"  ": "x"}, "run metadata has an empty key"),
        ({"a\nb": "x"}, "run metadata key 'a\\nb' has to be printable (no tabs, newlines or "
                        "control characters)"),
        ({"k" * 201: "x"}, "run metadata key " + repr("k" * 57) + "... is longer than 200 "
                           "characters"),
        ({"a": {"b": 1}}, "run metadata values have to be strings, numbers or booleans, not "
                          "an object"),
        ({"a": [1]}, "run metadata values have to be strings, numbers or booleans, not a list"),
        ({"a": float("inf")}, "run metadata value inf is not a finite number"),
        ({"a": "x" * 10_001}, "run metadata value of 10,001 characters is over the limit of "
                              "10,000"),
        ({str(i): i for i in range(101)}, "run metadata has 101 keys; at most 100 are allowed"),
    ],
)
def test_bad_metadata_is_refused_with_one_line_and_the_store_is_untouched(
    root: Path, meta: object, problem: str
) -> None:
    assert run_meta.meta_problem(meta) == problem
    with pytest.raises(IngestError) as caught:
        ingest_table(root, predictions(), "m", "r", "s", IngestOptions(run_meta=meta),  # type: ignore[arg-type]
                     source="preds.csv")
    assert str(caught.value) == f"preds.csv: {problem}"
    assert not (root / CATALOG_FILE).exists()


def test_merged_metadata_past_the_key_bound_is_refused_and_the_split_not_added(
    root: Path,
) -> None:
    ingest(root, "r", "s", **{f"a{i}": i for i in range(60)})
    with pytest.raises(IngestError, match="the run's metadata would have 120 keys"):
        ingest(root, "r", "s2", **{f"b{i}": i for i in range(60)})
    assert Catalog(root, create=False).split("m", "r", "s2") is None
    assert len(meta_of(root)) == 60


def test_the_catalog_keeps_it_as_one_compact_json_object(root: Path) -> None:
    ingest(root, lr="0.01", commit="ab12")
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        assert conn.execute("SELECT meta FROM runs").fetchone()[0] == (
            '{"commit":"ab12","lr":"0.01"}'
        )


def version_2_store(root: Path) -> None:
    """A store as evalql left it at schema version 2: no runs.meta column."""
    ingest(root)
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        conn.execute("ALTER TABLE runs DROP COLUMN meta")
        conn.execute("PRAGMA user_version = 2")


def test_a_version_2_store_opens_with_empty_metadata_and_unchanged(root: Path) -> None:
    version_2_store(root)
    before = (root / CATALOG_FILE).read_bytes()
    catalog = Catalog(root, create=False)
    assert catalog.schema_version() == 2
    assert catalog.run("m", "r").meta == {}
    catalog.close()
    assert (root / CATALOG_FILE).read_bytes() == before


def test_the_first_write_to_a_version_2_store_adds_the_column_and_merges(root: Path) -> None:
    version_2_store(root)
    ingest(root, "r", "s2", commit="ab12")
    catalog = Catalog(root, create=False)
    assert catalog.schema_version() == SCHEMA_VERSION == 3
    assert catalog.run("m", "r").meta == {"commit": "ab12"}
    assert catalog.split("m", "r", "s") is not None
