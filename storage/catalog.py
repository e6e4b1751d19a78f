"""The catalog: which models, runs and splits exist, in SQLite (stdlib sqlite3).

Reads never write. Every read is answered from an in-memory ``Snapshot``,
replaced when the catalog changes: one long-lived connection per Catalog asks
SQLite's ``PRAGMA data_version``, which changes exactly when another
connection (any process) has committed. Checking it costs microseconds and
no file is created; the snapshot itself is read again only after a write.

The catalog uses SQLite's rollback journal (``journal_mode=DELETE``), not
WAL. A WAL reader has to create and grow the ``-shm`` side file even to read,
so with a full disk every new connection failed; a rollback-journal reader
takes a shared lock and reads, nothing else. The price, a reader waiting
while a writer commits, is a few milliseconds and is paid only when the
snapshot is refreshed. A store written in WAL mode leaves it at its first
write (see ``_leave_wal``).

Writes go through ``Catalog.transaction()``, one ``BEGIN IMMEDIATE``
transaction that serialises concurrent ingests, even across processes, and
that first brings an older catalog to the current schema (``storage.schema``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from evalql.storage import run_meta, schema
from evalql.storage.errors import StoreNotFound, store_io
from evalql.storage.model import ModelInfo, RunInfo, SplitInfo
from evalql.storage.snapshot import (
    SPLIT_COLUMNS,
    Snapshot,
    model_row,
    read_snapshot,
    run_row,
    split_row,
)

CATALOG_FILE = "catalog.sqlite"
SPLITS_DIR = "splits"
TMP_DIR = "tmp"

# Generous, because a writer waits for another process's ingest to commit.
_BUSY_TIMEOUT_SECONDS = 60.0
# Leaving WAL needs the only connection to the file; when a server holds
# one, try again at a later write rather than wait for it.
_LEAVE_WAL_TIMEOUT_MS = 100

T = TypeVar("T")


class Catalog:
    """The store's catalog under ``root``.

    ``Catalog(root)`` creates root and schema when the store does not exist
    yet (what ``ingest`` and ``demo`` need) and writes nothing when it does;
    ``Catalog(root, create=False)`` opens an existing store and raises
    StoreNotFound (with the absolute path) for a folder that holds no catalog,
    so a mistyped ``--data`` never leaves an empty store behind.

    Thread-safe: the server's threads share one Catalog.
    """

    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = Path(root)
        self.path = self.root / CATALOG_FILE
        self._lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._seen: int | None = None  # the data_version the cache was read at
        self._cache: dict[str, object] = {}
        if self._exists():
            return
        if not create:
            raise StoreNotFound(self.root.resolve())
        self._create()

    # --- reads: all from the snapshot ------------------------------------

    def models(self) -> list[ModelInfo]:
        """Every model, sorted by name."""
        return list(self.snapshot().models)

    def model(self, name: str) -> ModelInfo | None:
        """The model called ``name``, or None."""
        return self.snapshot().model(name)

    def runs(self, model: str) -> list[RunInfo]:
        """The runs of ``model``, oldest first (ties by name)."""
        return list(self.snapshot().runs.get(model, ()))

    def run(self, model: str, name: str) -> RunInfo | None:
        """The run ``model/name``, or None."""
        return self.snapshot().run(model, name)

    def splits(self, model: str, run: str) -> list[SplitInfo]:
        """The splits of ``model/run``, sorted by name."""
        return list(self.snapshot().splits.get((model, run), ()))

    def split(self, model: str, run: str, name: str) -> SplitInfo | None:
        """The split ``model/run/name``, or None."""
        return self.snapshot().split(model, run, name)

    def is_empty(self) -> bool:
        """True when no model is stored."""
        return not self.snapshot().models

    def paths(self) -> set[str]:
        """The data files the catalog refers to, relative to the root."""
        return {split.path for split in self.snapshot().all_splits()}

    def snapshot(self) -> Snapshot:
        """The catalog as of its latest commit."""
        return self.cached("snapshot", read_snapshot)

    def schema_version(self) -> int:
        """The catalog's schema version (0: written before versions existed)."""
        return self.cached("schema_version", schema.version)

    def setting(self, key: str) -> str | None:
        """A setting the store keeps about itself, such as ``objects``
        (``storage.schema``'s table settings); None when unset."""
        return self.cached("settings", schema.read_settings).get(key)

    def cached(self, key: str, build: Callable[[sqlite3.Connection], T]) -> T:
        """``build(connection)``, computed again only after the catalog changes.

        For anything read per request (the snapshot; tokens, say): ``build``
        gets the long-lived reading connection and must only read. ``key``
        names the result; one key, one ``build``.
        """
        with self._lock:
            with store_io(self.root, "read"):
                conn = self._connection()
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != self._seen:
                    self._cache.clear()
                    self._seen = version
                if key not in self._cache:
                    self._cache[key] = build(conn)
            return self._cache[key]  # type: ignore[return-value]

    def close(self) -> None:
        """Close the reading connection (reopened if the Catalog is used again)."""
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
                self._seen = None

    # --- writes ------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[CatalogWriter]:
        """One ``BEGIN IMMEDIATE`` write transaction: committed on success,
        rolled back on any exception. An older catalog is migrated first, in
        the same transaction."""
        with closing(self._connect()) as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                self.close()  # our own reading connection would keep the store in WAL
                _leave_wal(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                schema.migrate(conn)
                yield CatalogWriter(conn)
                conn.execute("COMMIT")
            except BaseException:
                # After a failed COMMIT (a full disk) SQLite may have rolled
                # back already; the original error is the one to report.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    def _connect(self) -> sqlite3.Connection:
        """A new read-write connection, for one write transaction."""
        # isolation_level=None: we issue BEGIN ourselves, so sqlite3 never opens
        # a transaction behind our back.
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    # --- opening -------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The long-lived reading connection (under ``self._lock``).

        Opened ``mode=rw`` rather than ``mode=ro``, and without create: it
        never writes, but SQLite must be able to roll back the journal of a
        writer killed mid-commit before anyone can read, and a read-only
        connection cannot.
        """
        if self._reader is None:
            uri = f"file:{quote(str(self.path.resolve()))}?mode=rw"
            self._reader = sqlite3.connect(
                uri, uri=True, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None,
                check_same_thread=False,
            )
            # Closed with the Catalog; the finalizer holds the connection, not self.
            weakref.finalize(self, self._reader.close)
        return self._reader

    def _exists(self) -> bool:
        # False also while a first ingest is creating the store: the file is
        # there, its tables are not committed yet.
        if not self.path.is_file():
            return False
        with self._lock, store_io(self.root, "read"):
            return schema.has_table(self._connection(), "splits")

    def _create(self) -> None:
        for directory in (self.root, self.root / SPLITS_DIR, self.root / TMP_DIR):
            directory.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                schema.create(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise


def _leave_wal(conn: sqlite3.Connection) -> None:
    """Switch a store written in WAL mode to the rollback journal (see the
    module docstring); best effort, since it needs the only connection."""
    conn.execute(f"PRAGMA busy_timeout = {_LEAVE_WAL_TIMEOUT_MS}")
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.OperationalError:
        pass  # another connection is open (a server): a later write retries
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_SECONDS * 1000)}")


class CatalogWriter:
    """Reads and writes inside one transaction (see ``Catalog.transaction``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def model(self, name: str) -> ModelInfo | None:
        """The model called ``name``, or None."""
        row = self._conn.execute(
            "SELECT name, task, labels, labels_fixed FROM models WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else model_row(row)

    def split(self, model: str, run: str, name: str) -> SplitInfo | None:
        """The split ``model/run/name``, or None."""
        row = self._conn.execute(
            f"SELECT {SPLIT_COLUMNS}, checksum FROM splits "
            "WHERE model = ? AND run = ? AND name = ?",
            (model, run, name),
        ).fetchone()
        return None if row is None else split_row(row[:-1], checksum=row[-1])

    def run(self, model: str, name: str) -> RunInfo | None:
        """The run ``model/name``, or None."""
        # Inside a transaction the catalog is migrated: runs.meta is there.
        row = self._conn.execute(
            "SELECT model, name, created_at, meta FROM runs WHERE model = ? AND name = ?",
            (model, name),
        ).fetchone()
        return None if row is None else run_row(row)

    def run_count(self, model: str) -> int:
        """How many runs ``model`` has."""
        found = self._conn.execute("SELECT count(*) FROM runs WHERE model = ?", (model,))
        return int(found.fetchone()[0])

    def labels_in_splits(self, model: str, excluding: tuple[str, str] | None = None) -> set[str]:
        """The union of the label dictionaries of the splits of ``model``, but
        the split ``excluding`` = (run, split), the one being written."""
        # Names are never empty (ingest.name_problem), so ("", "") excludes nothing.
        rows = self._conn.execute(
            "SELECT labels FROM splits WHERE model = ? AND NOT (run = ? AND name = ?)",
            (model, *(excluding or ("", ""))),
        )
        return {label for (labels,) in rows for label in json.loads(labels)}

    def put_model(self, model: ModelInfo) -> None:
        """Create ``model`` or update its labels (its task never changes)."""
        self._conn.execute(
            "INSERT INTO models (name, task, labels, labels_fixed) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET labels = excluded.labels",
            (model.name, model.task, json.dumps(model.labels), int(model.labels_fixed)),
        )

    def put_run(self, run: RunInfo) -> None:
        """Create ``run`` unless it exists (an existing run keeps its created_at)."""
        self._conn.execute(
            "INSERT OR IGNORE INTO runs (model, name, created_at) VALUES (?, ?, ?)",
            (run.model, run.name, run.created_at.isoformat(timespec="microseconds")),
        )

    def put_run_meta(self, model: str, name: str, meta: Mapping[str, object]) -> None:
        """Set the metadata of the existing run ``model/name`` (``storage.run_meta``
        merges it with what the run had)."""
        self._conn.execute(
            "UPDATE runs SET meta = ? WHERE model = ? AND name = ?",
            (run_meta.dumps(meta) if meta else None, model, name),
        )

    def splits_of(self, model: str, run: str | None = None) -> list[SplitInfo]:
        """The splits of ``model`` (of its run ``run`` only, when given)."""
        where, args = ("model = ?", (model,)) if run is None else (
            "model = ? AND run = ?", (model, run))
        rows = self._conn.execute(
            f"SELECT {SPLIT_COLUMNS}, checksum FROM splits WHERE {where}", args
        )
        return [split_row(row[:-1], checksum=row[-1]) for row in rows]

    def remove_split(self, model: str, run: str, name: str) -> None:
        """Delete the split's row (its file is the caller's, after the commit)."""
        self._conn.execute(
            "DELETE FROM splits WHERE model = ? AND run = ? AND name = ?", (model, run, name)
        )

    def remove_run(self, model: str, name: str) -> None:
        """Delete the run and its splits' rows."""
        self._conn.execute("DELETE FROM splits WHERE model = ? AND run = ?", (model, name))
        self._conn.execute("DELETE FROM runs WHERE model = ? AND name = ?", (model, name))

    def remove_model(self, name: str) -> None:
        """Delete the model, its runs and their splits' rows (children first:
        the foreign keys are enforced)."""
        for table in ("splits", "runs"):
            self._conn.execute(f"DELETE FROM {table} WHERE model = ?", (name,))
        self._conn.execute("DELETE FROM models WHERE name = ?", (name,))

    def setting(self, key: str) -> str | None:
        """A setting of the store, as this transaction sees it; None when unset."""
        return schema.read_settings(self._conn).get(key)

    def put_setting(self, key: str, value: str) -> None:
        """Set (or change) a setting of the store."""
        self._conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def put_split(self, split: SplitInfo, labels: tuple[str, ...]) -> None:
        """Create or replace ``split``; ``labels`` is its own label dictionary."""
        # [name, type], and a string column's number of values when known.
        columns = json.dumps([
            [c.name, c.type] if c.values is None else [c.name, c.type, c.values]
            for c in split.columns
        ])
        self._conn.execute(
            "INSERT OR REPLACE INTO splits (model, run, name, row_count, columns, version, "
            "path, has_scores, labels, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (split.model, split.run, split.name, split.row_count, columns, split.version,
             split.path, int(split.has_scores), json.dumps(labels), split.checksum),
        )
