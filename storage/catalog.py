"""The catalog: which models, runs and splits exist, in SQLite (stdlib sqlite3).

Every public call opens its own short-lived connection, so one ``Catalog`` can
be shared by the server's thread pool. Ingest writes go through
``Catalog.transaction()``, one ``BEGIN IMMEDIATE`` transaction that serialises
concurrent ingests, even across processes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from evalql.storage.errors import StoreNotFound
from evalql.storage.model import ColumnInfo, ModelInfo, RunInfo, SplitInfo

CATALOG_FILE = "catalog.sqlite"
SPLITS_DIR = "splits"
TMP_DIR = "tmp"

# Generous, because a writer waits for another process's ingest to commit.
_BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    labels TEXT NOT NULL,            -- JSON list, the model's label order
    labels_fixed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    model TEXT NOT NULL REFERENCES models(name),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,        -- ISO 8601, UTC, sorts as text
    PRIMARY KEY (model, name)
);
CREATE TABLE IF NOT EXISTS splits (
    model TEXT NOT NULL,
    run TEXT NOT NULL,
    name TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    columns TEXT NOT NULL,           -- JSON list of [name, type]
    version INTEGER NOT NULL,
    path TEXT NOT NULL,              -- relative to the store root
    has_scores INTEGER NOT NULL,
    labels TEXT NOT NULL,            -- JSON list, the split's own label dictionary
    PRIMARY KEY (model, run, name),
    FOREIGN KEY (model, run) REFERENCES runs(model, name)
);
"""

_SPLIT_COLUMNS = "model, run, name, row_count, columns, version, path, has_scores"


class Catalog:
    """The store's catalog under ``root``.

    ``Catalog(root)`` creates root and schema if missing (what ``ingest`` and
    ``demo`` need); ``Catalog(root, create=False)`` opens an existing store
    and raises StoreNotFound (with the absolute path) for a folder that holds
    no catalog, so a mistyped ``--data`` never leaves an empty store behind.
    """

    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = Path(root)
        self.path = self.root / CATALOG_FILE
        if not create:
            if not (self.path.is_file() and self._has_schema()):
                raise StoreNotFound(self.root.resolve())
            return
        for directory in (self.root, self.root / SPLITS_DIR, self.root / TMP_DIR):
            directory.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            _create_schema(conn)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves, so sqlite3 never opens
        # a transaction behind our back.
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _has_schema(self) -> bool:
        # False also while a first ingest is creating the store: the file is
        # there, its tables are not committed yet.
        with closing(self._connect()) as conn:
            found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'splits'"
            return conn.execute(found).fetchone() is not None

    def models(self) -> list[ModelInfo]:
        """Every model, sorted by name."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM models ORDER BY name").fetchall()
        return [_model(row) for row in rows]

    def model(self, name: str) -> ModelInfo | None:
        """The model called ``name``, or None."""
        with closing(self._connect()) as conn:
            return _select_model(conn, name)

    def runs(self, model: str) -> list[RunInfo]:
        """The runs of ``model``, oldest first (ties by name)."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT * FROM runs WHERE model = ? ORDER BY created_at, name", (model,)
            ).fetchall()
        return [_run(row) for row in rows]

    def run(self, model: str, name: str) -> RunInfo | None:
        """The run ``model/name``, or None."""
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT * FROM runs WHERE model = ? AND name = ?", (model, name)
            ).fetchone()
        return None if row is None else _run(row)

    def splits(self, model: str, run: str) -> list[SplitInfo]:
        """The splits of ``model/run``, sorted by name."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                f"SELECT {_SPLIT_COLUMNS} FROM splits WHERE model = ? AND run = ? ORDER BY name",
                (model, run),
            ).fetchall()
        return [_split(row) for row in rows]

    def split(self, model: str, run: str, name: str) -> SplitInfo | None:
        """The split ``model/run/name``, or None."""
        with closing(self._connect()) as conn:
            return _select_split(conn, model, run, name)

    def is_empty(self) -> bool:
        """True when no model is stored."""
        with closing(self._connect()) as conn:
            return conn.execute("SELECT 1 FROM models LIMIT 1").fetchone() is None

    def paths(self) -> set[str]:
        """The data files the catalog refers to, relative to the root."""
        with closing(self._connect()) as conn:
            return {path for (path,) in conn.execute("SELECT path FROM splits")}

    @contextmanager
    def transaction(self) -> Iterator[CatalogWriter]:
        """One ``BEGIN IMMEDIATE`` write transaction: committed on success,
        rolled back on any exception."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield CatalogWriter(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


class CatalogWriter:
    """Reads and writes inside one transaction (see ``Catalog.transaction``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def model(self, name: str) -> ModelInfo | None:
        """The model called ``name``, or None."""
        return _select_model(self._conn, name)

    def split(self, model: str, run: str, name: str) -> SplitInfo | None:
        """The split ``model/run/name``, or None."""
        return _select_split(self._conn, model, run, name)

    def labels_in_splits(self, model: str, excluding: tuple[str, str]) -> set[str]:
        """The union of the label dictionaries of the splits of ``model``, but
        the split ``excluding`` = (run, split), the one being written."""
        rows = self._conn.execute(
            "SELECT labels FROM splits WHERE model = ? AND NOT (run = ? AND name = ?)",
            (model, *excluding),
        )
        return {label for (labels,) in rows for label in json.loads(labels)}

    def put_model(self, model: ModelInfo) -> None:
        """Create ``model`` or update its labels (its task never changes)."""
        self._conn.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET labels = excluded.labels",
            (model.name, model.task, json.dumps(model.labels), int(model.labels_fixed)),
        )

    def put_run(self, run: RunInfo) -> None:
        """Create ``run`` unless it exists (an existing run keeps its created_at)."""
        self._conn.execute(
            "INSERT OR IGNORE INTO runs VALUES (?, ?, ?)",
            (run.model, run.name, run.created_at.isoformat(timespec="microseconds")),
        )

    def put_split(self, split: SplitInfo, labels: tuple[str, ...]) -> None:
        """Create or replace ``split``; ``labels`` is its own label dictionary."""
        columns = json.dumps([[c.name, c.type] for c in split.columns])
        self._conn.execute(
            "INSERT OR REPLACE INTO splits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (split.model, split.run, split.name, split.row_count, columns, split.version,
             split.path, int(split.has_scores), json.dumps(labels)),
        )


def _create_schema(conn: sqlite3.Connection) -> None:
    # WAL lets readers (the server) go on while an ingest writes; the mode is
    # stored in the file, so only the first connection ever has to switch it.
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _select_model(conn: sqlite3.Connection, name: str) -> ModelInfo | None:
    row = conn.execute("SELECT * FROM models WHERE name = ?", (name,)).fetchone()
    return None if row is None else _model(row)


def _select_split(conn: sqlite3.Connection, model: str, run: str, name: str) -> SplitInfo | None:
    row = conn.execute(
        f"SELECT {_SPLIT_COLUMNS} FROM splits WHERE model = ? AND run = ? AND name = ?",
        (model, run, name),
    ).fetchone()
    return None if row is None else _split(row)


def _model(row: tuple) -> ModelInfo:
    name, task, labels, fixed = row
    return ModelInfo(name, task, tuple(json.loads(labels)), bool(fixed))


def _run(row: tuple) -> RunInfo:
    model, name, created_at = row
    return RunInfo(model, name, datetime.fromisoformat(created_at))


def _split(row: tuple) -> SplitInfo:
    model, run, name, row_count, columns, version, path, has_scores = row
    infos = tuple(ColumnInfo(n, t) for n, t in json.loads(columns))
    return SplitInfo(model, run, name, row_count, infos, version, path, bool(has_scores))
