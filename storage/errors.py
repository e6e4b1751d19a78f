"""The errors storage raises: every one names what is wrong and where."""

from __future__ import annotations

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
