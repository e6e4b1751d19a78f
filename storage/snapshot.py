"""An in-memory copy of the catalog: every model, run and split, read at once.

The server answers every catalog question from a ``Snapshot`` instead of
SQLite, so a query needs no database call at all (a new connection cost about
a millisecond) and nothing that could need a write, such as WAL side files on
a full disk. ``Catalog`` replaces its snapshot when the catalog changes.

``read_snapshot`` reads the three tables in one read transaction, so a
snapshot never shows a split without its run or model.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from evalql.storage import run_meta
from evalql.storage.model import ColumnInfo, ModelInfo, RunInfo, SplitInfo
from evalql.storage.schema import has_column, has_table

# The columns every schema version has; SPLIT_COLUMNS is also what
# CatalogWriter selects, so both decode rows with ``split_row``.
SPLIT_COLUMNS = "model, run, name, row_count, columns, version, path, has_scores"


@dataclass(frozen=True)
class Snapshot:
    """The catalog's rows at one moment, ordered as the Catalog returns them:
    models by name, runs oldest first (ties by name), splits by name."""

    models: tuple[ModelInfo, ...] = ()
    runs: dict[str, tuple[RunInfo, ...]] = field(default_factory=dict)
    splits: dict[tuple[str, str], tuple[SplitInfo, ...]] = field(default_factory=dict)
    _model: dict[str, ModelInfo] = field(default_factory=dict, repr=False)
    _run: dict[tuple[str, str], RunInfo] = field(default_factory=dict, repr=False)
    _split: dict[tuple[str, str, str], SplitInfo] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, models: list[ModelInfo], runs: list[RunInfo], splits: list[SplitInfo]
    ) -> Snapshot:
        """A snapshot of rows already in the Catalog's order."""
        by_model: dict[str, list[RunInfo]] = {}
        for run in runs:
            by_model.setdefault(run.model, []).append(run)
        by_run: dict[tuple[str, str], list[SplitInfo]] = {}
        for split in splits:
            by_run.setdefault((split.model, split.run), []).append(split)
        return cls(
            models=tuple(models),
            runs={name: tuple(found) for name, found in by_model.items()},
            splits={key: tuple(found) for key, found in by_run.items()},
            _model={m.name: m for m in models},
            _run={(r.model, r.name): r for r in runs},
            _split={(s.model, s.run, s.name): s for s in splits},
        )

    def model(self, name: str) -> ModelInfo | None:
        return self._model.get(name)

    def run(self, model: str, name: str) -> RunInfo | None:
        return self._run.get((model, name))

    def split(self, model: str, run: str, name: str) -> SplitInfo | None:
        return self._split.get((model, run, name))

    def all_splits(self) -> tuple[SplitInfo, ...]:
        """Every split, by model, run and name."""
        return tuple(self._split[key] for key in sorted(self._split))


def read_snapshot(conn: sqlite3.Connection) -> Snapshot:
    """Every row of the catalog, in one read transaction (``conn`` in autocommit)."""
    conn.execute("BEGIN")  # deferred: a read transaction, no lock a writer waits on for long
    try:
        if not has_table(conn, "splits"):  # a store being created by another process
            return Snapshot()
        models = conn.execute("SELECT name, task, labels, labels_fixed FROM models ORDER BY name")
        models = [model_row(row) for row in models]
        meta = "meta" if has_column(conn, "runs", "meta") else "NULL"  # version 3
        runs = conn.execute(
            f"SELECT model, name, created_at, {meta} FROM runs ORDER BY model, created_at, name"
        )
        runs = [run_row(row) for row in runs]
        checksum = "checksum" if has_column(conn, "splits", "checksum") else "NULL"
        rows = conn.execute(
            f"SELECT {SPLIT_COLUMNS}, {checksum} FROM splits ORDER BY model, run, name"
        )
        splits = [split_row(row[:-1], checksum=row[-1]) for row in rows]
    finally:
        conn.execute("COMMIT")  # ends the read transaction; nothing is written
    return Snapshot.of(models, runs, splits)


def model_row(row: tuple) -> ModelInfo:
    name, task, labels, fixed = row
    return ModelInfo(name, task, tuple(json.loads(labels)), bool(fixed))


def run_row(row: tuple) -> RunInfo:
    """A run from (model, name, created_at, meta JSON or None)."""
    model, name, created_at, meta = row
    return RunInfo(model, name, datetime.fromisoformat(created_at), run_meta.loads(meta))


def split_row(row: tuple, checksum: str | None = None) -> SplitInfo:
    model, run, name, row_count, columns, version, path, has_scores = row
    infos = tuple(ColumnInfo(*entry) for entry in json.loads(columns))  # [name, type(, values)]
    return SplitInfo(
        model, run, name, row_count, infos, version, path, bool(has_scores), checksum
    )
