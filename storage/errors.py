"""The errors storage raises: every one names what is wrong and where."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreError(Exception):
    """Base of every error the store raises on purpose (user-facing)."""


class IngestError(StoreError):
    """An input file that cannot be ingested, with where and why.

    ``row`` is the 1-based data row number (the first row after a CSV header is
    row 1), so it matches what a person counts in a spreadsheet.

    >>> str(IngestError("preds.csv", "value 1.3 is outside [0, 1]", "confidence", 17))
    "preds.csv: column 'confidence', row 17: value 1.3 is outside [0, 1]"
    """

    def __init__(
        self, file: str, message: str, column: str | None = None, row: int | None = None
    ) -> None:
        super().__init__(file, message, column, row)
        self.file = file
        self.message = message
        self.column = column
        self.row = row

    def __str__(self) -> str:
        where = []
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        location = f"{', '.join(where)}: " if where else ""
        return f"{self.file}: {location}{self.message}"


class StoreNotFound(StoreError):
    """A folder that holds no store, given to a command that only reads.

    >>> str(StoreNotFound(Path("/data/typo")))
    "no evalql store at /data/typo (create one with 'evalql ingest' or 'evalql demo')"
    """

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.root = root

    def __str__(self) -> str:
        return (
            f"no evalql store at {self.root} "
            "(create one with 'evalql ingest' or 'evalql demo')"
        )


class SplitChanged(StoreError):
    """A split replaced while it was being read: asking again will succeed."""


class CorruptSplitError(StoreError):
    """A split's data file that cannot be read; the rest of the store still works."""

    def __init__(self, split: str, file: str, reason: str) -> None:
        super().__init__(split, file, reason)
        self.split = split
        self.file = file
        self.reason = reason

    def __str__(self) -> str:
        return f"split {self.split} is corrupt: cannot read {self.file}: {self.reason}"


class StoreIOError(StoreError):
    """The operating system refused to read or write the store: a full disk,
    a permission, a read-only file system. One line, with the store's absolute
    path and the system's reason.

    >>> str(StoreIOError(Path("/data/s"), "write", "No space left on device"))
    'cannot write the store at /data/s: No space left on device'
    """

    def __init__(self, root: Path, action: str, reason: str) -> None:
        super().__init__(root, action, reason)
        self.root = root
        self.action = action  # "read" or "write"
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot {self.action} the store at {self.root}: {self.reason}"


# SQLite's primary result codes (sqlite3.h) that are the system's refusal
# or a damaged file rather than a mistake in our SQL: PERM, BUSY, LOCKED,
# NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
_SQLITE_SYSTEM_CODES = frozenset({3, 5, 6, 7, 8, 10, 11, 13, 14, 15, 26})
# Those with a plainer meaning than SQLite's own message.
_SQLITE_REASONS = {
    3: os.strerror(errno.EACCES),  # SQLITE_PERM
    8: "the store is read-only",  # SQLITE_READONLY
    13: os.strerror(errno.ENOSPC),  # SQLITE_FULL: "database or disk is full"
}


def io_reason(error: OSError | sqlite3.Error) -> str:
    """What went wrong, in the system's words, without a path or a traceback.

    ``io_reason(OSError(errno.ENOSPC, "No space left on device", "/s/tmp/x"))``
    -> ``"No space left on device"``.
    """
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _SQLITE_REASONS:
        return _SQLITE_REASONS[code & 0xFF]
    return " ".join(str(error).split()) or type(error).__name__


@contextmanager
def store_io(root: Path, action: str) -> Iterator[None]:
    """Turn an OSError or SQLite error inside the block into a StoreIOError.

    Our own StoreErrors pass through; a cleanup that the block's own
    ``finally`` and ``except`` clauses do still runs before the conversion.
    """
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        if isinstance(error, sqlite3.Error) and not _is_system(error):
            raise  # a bug of ours, not the system's refusal
        raise StoreIOError(Path(root).resolve(), action, io_reason(error)) from error


def _is_system(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _SQLITE_SYSTEM_CODES
