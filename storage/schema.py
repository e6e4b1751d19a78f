"""The catalog's tables, its schema version, and how an older store moves forward.

The version is SQLite's ``PRAGMA user_version``: 0 in a store written before
versions existed, ``SCHEMA_VERSION`` once migrated. ``MIGRATIONS[i]`` takes a
catalog from version i to i + 1. A new store is made the same way as an old
one is migrated (version-0 tables, then every migration), so the two can
never differ. Both run inside the caller's write transaction: a store moves
forward in one transaction or not at all (``user_version`` is transactional,
it lives in the database header).

Readers need no migration: they select the columns every version has, and
the columns a migration adds are read only when present (``has_column``).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable

from evalql.storage.errors import StoreError

# The tables as the first released store wrote them (version 0).
_TABLES_V0 = (
    """CREATE TABLE IF NOT EXISTS models (
        name TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        labels TEXT NOT NULL,            -- JSON list, the model's label order
        labels_fixed INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        model TEXT NOT NULL REFERENCES models(name),
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,        -- ISO 8601, UTC, sorts as text
        PRIMARY KEY (model, name)
    )""",
    """CREATE TABLE IF NOT EXISTS splits (
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
    )""",
)


def _to_1(conn: sqlite3.Connection) -> None:
    """Version 1: a checksum of each split file ("sha256:<hex>"), kept at
    ingest so ``evalql check`` can tell a corrupt file; null for files
    ingested before version 1."""
    conn.execute("ALTER TABLE splits ADD COLUMN checksum TEXT")


def _to_2(conn: sqlite3.Connection) -> None:
    """Version 2: table ``settings``, what a store remembers about itself, one
    row a key: ``store_id``, a random id made here (it names the store's own
    folder on object storage, see ``storage.objects``), and ``objects``, the
    s3:// location new split files go to, once a command is given one."""
    conn.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,)
    )


def _to_3(conn: sqlite3.Connection) -> None:
    """Version 3: each run's metadata (``evalql ingest --run-meta``), a JSON
    object of key -> value (``storage.run_meta``); null for a run without any,
    and for every run ingested before version 3."""
    conn.execute("ALTER TABLE runs ADD COLUMN meta TEXT")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_to_1, _to_2, _to_3)
SCHEMA_VERSION = len(MIGRATIONS)


class NewerStoreError(StoreError):
    """A catalog written by a newer evalql: read it, but never write to it."""

    def __init__(self, found: int) -> None:
        super().__init__(found)
        self.found = found

    def __str__(self) -> str:
        return (
            f"the store's catalog has schema version {self.found}, newer than this "
            f"evalql's {SCHEMA_VERSION}; upgrade evalql to write to it"
        )


def version(conn: sqlite3.Connection) -> int:
    """The catalog's schema version (0 for a store written before versions)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def create(conn: sqlite3.Connection) -> None:
    """Make the tables of a new (or half-created) store, at ``SCHEMA_VERSION``.

    Inside a write transaction; a store that another process has just
    created is only migrated if it needs to be.
    """
    if not has_table(conn, "splits"):
        for statement in _TABLES_V0:
            conn.execute(statement)
    migrate(conn)


def migrate(conn: sqlite3.Connection) -> bool:
    """Bring the catalog to ``SCHEMA_VERSION``; True when it had to change.

    Inside a write transaction (``BEGIN IMMEDIATE``), so no other writer sees
    a half-migrated catalog and a failure leaves it at its old version.
    """
    found = version(conn)
    if found > SCHEMA_VERSION:
        raise NewerStoreError(found)
    for step in MIGRATIONS[found:]:
        step(conn)
    if found != SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    return found != SCHEMA_VERSION


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(found, (name,)).fetchone() is not None


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    # PRAGMA table_info cannot take a bound parameter; table is one of ours.
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def read_settings(conn: sqlite3.Connection) -> dict[str, str]:
    """Every setting of the store (table ``settings``); none before version 2."""
    if not has_table(conn, "settings"):
        return {}
    return dict(conn.execute("SELECT key, value FROM settings").fetchall())
