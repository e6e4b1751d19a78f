"""Bearer tokens of a store, in its catalog file (table ``tokens``).

A token is 32 random bytes, shown once when it is made; the catalog keeps
only its SHA-256. Tokens are high-entropy, so a plain hash cannot be
reversed by guessing, and a lookup is one hash and one dict access.

Reads go through the catalog's own cache (``Catalog.cached``): read again
only after a commit, on its long-lived reading connection, so reading
tokens never writes and a full disk locks nobody out. ``add`` and
``revoke`` write in one ``BEGIN IMMEDIATE`` transaction each, creating the
table on first use, so a store made before tokens existed needs no
migration (the table is outside the catalog's schema versions).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evalql.storage.catalog import CATALOG_FILE, Catalog
from evalql.storage.errors import StoreError, StoreNotFound

ROLES = ("read", "write")
MAX_NAME_LENGTH = 100
# Tokens start with this, so a leaked one is recognisable (and greppable).
PREFIX = "evalql_"

_TABLE = """
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('read', 'write')),
    hash TEXT NOT NULL UNIQUE,       -- sha256 hex of the token; the token is never stored
    created_at TEXT NOT NULL         -- ISO 8601, UTC
)
"""
# Same patience as the catalog's writers: another process may be ingesting.
_BUSY_TIMEOUT_SECONDS = 60.0


class TokenError(StoreError):
    """A token command that cannot be done, said in one line."""


@dataclass(frozen=True)
class TokenInfo:
    """What ``evalql token list`` shows: never the token itself."""

    name: str
    role: str
    created_at: datetime


def token_hash(token: str) -> str:
    """The stored form of a token: ``token_hash("t")`` -> 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable() or name != name.strip():
        raise TokenError(
            f"a token name is 1-{MAX_NAME_LENGTH} printable characters without spaces "
            f"around them, not {name!r}"
        )


class TokenStore:
    """The tokens of the store at ``root`` (which has to exist), read through
    ``catalog`` when given (the server's), else a Catalog of its own."""

    def __init__(self, root: Path, catalog: Catalog | None = None) -> None:
        self.root = Path(root)
        self.path = self.root / CATALOG_FILE
        self._catalog = catalog

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.root, create=False)
        return self._catalog

    def _connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise StoreNotFound(self.root.resolve())
        return sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)

    def add(self, name: str, role: str) -> str:
        """Make a token called ``name`` with ``role``; return it (shown once)."""
        _check_name(name)
        if role not in ROLES:
            raise TokenError(f"a token's role is read or write, not {role!r}")
        token = PREFIX + secrets.token_urlsafe(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_TABLE)
                if conn.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
                    raise TokenError(f"there is a token called {name!r}; revoke it first")
                conn.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)",
                             (name, role, token_hash(token), created))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return token

    def revoke(self, name: str) -> None:
        """Delete the token called ``name``; TokenError when there is none."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_TABLE)
                gone = conn.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount
                if not gone:
                    raise TokenError(f"there is no token called {name!r}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def list(self) -> list[TokenInfo]:
        """Every token's name, role and creation time, oldest first."""
        return list(self.catalog().cached("token-list", _read_list))

    def roles(self) -> dict[str, str]:
        """``{sha256 of a token: its role}``; empty when the store has no token.
        StoreNotFound without a store; sqlite3.Error or a StoreError when the
        catalog cannot be read."""
        return dict(self.catalog().cached("token-roles", _read_roles))


def _has_table(conn: sqlite3.Connection) -> bool:
    found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tokens'"
    return conn.execute(found).fetchone() is not None


def _read_list(conn: sqlite3.Connection) -> tuple[TokenInfo, ...]:
    if not _has_table(conn):
        return ()
    rows = conn.execute("SELECT name, role, created_at FROM tokens ORDER BY created_at, name")
    return tuple(TokenInfo(name, role, datetime.fromisoformat(at)) for name, role, at in rows)


def _read_roles(conn: sqlite3.Connection) -> dict[str, str]:
    if not _has_table(conn):
        return {}
    return dict(conn.execute("SELECT hash, role FROM tokens").fetchall())
