"""Shared inputs and helpers of the storage tests."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from evalql.storage.catalog import CATALOG_FILE

IDS = [10, 11, 12, 13]
ACTUAL = ["cat", "dog", None, "bird"]
PREDICTED = ["dog", "dog", "cat", None]
CONFIDENCE = [0.9, None, 0.25, 0.5]


def predictions(**overrides: object) -> pa.Table:
    """Four rows with every kind of metadata column; ``overrides`` replace or,
    given None, drop columns."""
    columns: dict[str, object] = {
        "id": pa.array(IDS),
        "actual": pa.array(ACTUAL, pa.string()),
        "predicted": pa.array(PREDICTED, pa.string()),
        "confidence": pa.array(CONFIDENCE, pa.float64()),
        "region": pa.array(["eu", "us", None, "eu"]),
        "tokens": pa.array([3, 5, None, 8], pa.int64()),
        "score": pa.array([0.5, 1.5, 2.5, None], pa.float64()),
        "flagged": pa.array([True, False, None, True]),
        "seen_at": pa.array(
            [datetime(2024, 1, day) for day in (1, 2, 3, 4)], pa.timestamp("ms")
        ),
    }
    columns.update(overrides)
    return pa.table({name: array for name, array in columns.items() if array is not None})


def write(table: pa.Table, path: Path) -> Path:
    """Write ``table`` in the format its suffix names."""
    suffix = path.suffix
    if suffix == ".csv":
        pa_csv.write_csv(table, path)
    elif suffix == ".parquet":
        pq.write_table(table, path)
    elif suffix == ".feather":
        feather.write_feather(table, path)
    elif suffix == ".jsonl":
        rows = table.to_pylist()
        path.write_text("".join(json.dumps(row, default=_json_value) + "\n" for row in rows))
    else:
        raise AssertionError(f"no writer for {suffix}")
    return path


def _json_value(value: object) -> str:
    assert isinstance(value, datetime | date)
    return value.isoformat()


def snapshot(root: Path) -> tuple[list[str], dict[str, list[tuple]], str]:
    """Everything a store is: its files, every catalog row, the catalog's bytes."""
    files = sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))
    digest = hashlib.sha256((root / CATALOG_FILE).read_bytes()).hexdigest()
    with closing(sqlite3.connect(root / CATALOG_FILE)) as conn:
        rows = {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("models", "runs", "splits")
        }
    return files, rows, digest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    directory = tmp_path / "inputs"
    directory.mkdir()
    return directory
