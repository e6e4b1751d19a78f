"""Staging: the files an ingest writes before it commits, the lock that marks
them live, and the orphans a killed ingest leaves behind.

Each ingest has an id; its data file is ``tmp/<id>.arrow`` while written, then
``splits/<id>.arrow``, and from start to finish it holds an exclusive
``flock`` on ``tmp/<id>.lock``. The kernel drops that lock when the process
dies, however it dies. So a file in ``tmp/`` or ``splits/`` that the catalog
does not list is an orphan exactly when nobody holds its id's lock: its age
never decides, and a slow ingest running beside a sweep is never disturbed.

Any command that opens the store for writing (``open_for_writing``) removes
the orphans at once; ``evalql check`` lists them and ``--repair`` removes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from evalql.storage import schema
from evalql.storage.catalog import SPLITS_DIR, TMP_DIR, Catalog
from evalql.storage.errors import store_io

LOCK_SUFFIX = ".lock"
DATA_SUFFIX = ".arrow"


class Staging:
    """One ingest's claim on its files, held from ``__enter__`` to ``__exit__``.

    ``staged`` is where the ingest writes, ``final`` where it moves the file
    before committing. Leaving without ``committed()`` removes both; either
    way the lock file goes last, so no sweep sees the files unlocked while
    this ingest still counts on them.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.id = ""
        self._fd = -1
        self._committed = False

    @property
    def staged(self) -> Path:
        return self.root / TMP_DIR / f"{self.id}{DATA_SUFFIX}"

    @property
    def final(self) -> Path:
        return self.root / SPLITS_DIR / f"{self.id}{DATA_SUFFIX}"

    @property
    def lock_path(self) -> Path:
        return self.root / TMP_DIR / f"{self.id}{LOCK_SUFFIX}"

    def committed(self) -> None:
        """The catalog lists ``final`` now: keep it on exit."""
        self._committed = True

    def __enter__(self) -> Staging:
        while True:
            self.id = uuid.uuid4().hex
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            # A sweep may have taken the new, still unlocked file for a dead
            # ingest's and removed it between our open and our flock; a lock
            # on a removed file protects nothing, so start again.
            if _same_file(self._fd, self.lock_path):
                return self
            os.close(self._fd)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.staged.unlink(missing_ok=True)
                self.final.unlink(missing_ok=True)
            self.lock_path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # releases the lock


@dataclass(frozen=True)
class Opened:
    """A store opened for writing, and what opening it had to do."""

    catalog: Catalog
    migrated_from: int | None  # the schema version before, when it was migrated
    removed: list[str]  # orphan files removed, relative to the root


def open_for_writing(root: Path) -> Catalog:
    """The store at ``root`` ready for a write command: created when missing,
    its catalog migrated to the current schema, and its orphans removed.

    Every command that writes goes through here, so a killed ingest's files
    are gone at the next write, not an hour later.
    """
    return prepare_for_writing(root).catalog


def prepare_for_writing(root: Path) -> Opened:
    """``open_for_writing``, saying what it did (for ``evalql check --repair``)."""
    catalog = Catalog(root)
    with store_io(catalog.root, "write"):
        for directory in (catalog.root / SPLITS_DIR, catalog.root / TMP_DIR):
            directory.mkdir(exist_ok=True)
        before = catalog.schema_version()
        if before != schema.SCHEMA_VERSION:
            with catalog.transaction():
                pass  # the transaction migrates; nothing else to write
        removed = remove_orphans(catalog)
    migrated = before if catalog.schema_version() != before else None
    return Opened(catalog, migrated, removed)


def find_orphans(catalog: Catalog) -> list[str]:
    """The orphan files of the store, relative to its root, sorted."""
    found: list[str] = []
    for files in _unclaimed(catalog):
        found.extend(_relative(catalog, path) for path in files)
    return sorted(found)


def remove_orphans(catalog: Catalog) -> list[str]:
    """Remove the orphan files of the store; returns them, relative to its root."""
    removed: list[str] = []
    for files in _unclaimed(catalog):
        for path in files:
            with contextlib.suppress(FileNotFoundError):  # a concurrent sweep was first
                path.unlink()
                removed.append(_relative(catalog, path))
    return sorted(removed)


def _unclaimed(catalog: Catalog) -> Iterator[list[Path]]:
    """Per ingest id that no live ingest holds: its files the catalog does not
    list (the lock file among them). Yielded while this process holds the
    lock, and the catalog is read only once it does, so a commit that landed
    just before is seen."""
    listed = catalog.paths()
    for ingest_id, files in _files_by_id(catalog.root).items():
        if all(_relative(catalog, path) in listed for path in files):
            continue  # the common case, a committed split: no lock to try
        lock = catalog.root / TMP_DIR / f"{ingest_id}{LOCK_SUFFIX}"
        with _try_lock(lock) as free:
            if not free:
                continue  # a live ingest: never touched
            listed = catalog.paths()
            # Data files before the lock file, so a lock never outlives them.
            unlisted = [p for p in files if _relative(catalog, p) not in listed]
            if unlisted:
                yield sorted(unlisted, key=lambda p: p.suffix == LOCK_SUFFIX)


def _files_by_id(root: Path) -> dict[str, list[Path]]:
    """Every file in tmp/ and splits/, grouped by the ingest id it starts with."""
    groups: dict[str, list[Path]] = {}
    for directory in (root / TMP_DIR, root / SPLITS_DIR):
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(directory):
                if entry.is_file(follow_symlinks=False):
                    groups.setdefault(entry.name.split(".")[0], []).append(Path(entry.path))
    return groups


@contextlib.contextmanager
def unless_live(root: Path, ingest_id: str) -> Iterator[bool]:
    """True, with ingest ``ingest_id``'s lock held for the block, when no live
    ingest holds it: what decides whether a file of that ingest kept
    elsewhere (an object on object storage) is an orphan."""
    with _try_lock(Path(root) / TMP_DIR / f"{ingest_id}{LOCK_SUFFIX}") as free:
        yield free


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool]:
    """True (and the lock held for the block) when no live ingest holds
    ``path``; a missing lock file is free too: its ingest is over."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _relative(catalog: Catalog, path: Path) -> str:
    return path.relative_to(catalog.root).as_posix()
