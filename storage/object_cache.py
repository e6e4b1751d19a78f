"""The local copies through which the server reads splits kept on object storage.

``ObjectCache(root, budget).open(info)`` -> the split's Arrow file, memory-mapped
from ``<store>/object-cache/<ingest id>.arrow``. The first load of a split
downloads the object there (one GET, streamed to ``tmp/`` and checked against
the split's checksum as it arrives, then renamed into place); every later load
maps the copy, so a query never reads object storage. A copy is never changed:
a replaced split is a new object under a new name. A copy is trusted once
written; one that fails to decode is dropped by the loader
(``storage.datasets``), so the next load downloads it again.

The folder is bounded by ``budget`` bytes, the server's split-cache budget:
after each download the least recently loaded copies (by mtime, touched at
each load) are removed until the folder fits, the new copy always kept, so
one split larger than the budget is still served. A removed copy that a
loaded split still maps stays readable (POSIX unlinks only the name) and its
space returns when the split leaves memory, so the disk holds at most about
the budget plus what is loaded, itself within the budget.

A copy that cannot be written (a full disk, a read-only store) is not an
error: the object is read into memory instead, counted against the same
budget as every loaded split. A missing or damaged object is an OSError or
ValueError, which ``storage.datasets`` reports as DATA_UNAVAILABLE for that
split alone. The folder is a cache: deleting it at any time is safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

import pyarrow as pa

from evalql.storage import objects
from evalql.storage.catalog import TMP_DIR
from evalql.storage.errors import StoreError
from evalql.storage.model import SplitInfo
from evalql.storage.staging import Staging

CACHE_DIR = "object-cache"
_COPY_SUFFIX = ".arrow"
_INGEST_NAME = re.compile(r"[0-9a-f]{32}\.arrow")


class _LocalWriteFailed(Exception):
    """Writing the local copy failed (not reading the object): read it into memory."""


class ObjectCache:
    """Local copies of object-stored split files, at most ``budget_bytes`` of them.

    Thread-safe without a lock of its own: ``SplitStore`` loads a split once
    at a time, copies are renamed into place whole, and removing one that
    another thread or process maps is harmless.
    """

    def __init__(self, root: Path, budget_bytes: int = 8 << 30) -> None:
        self.root = Path(root)
        self.folder = self.root / CACHE_DIR
        self.budget_bytes = budget_bytes

    def copy_of(self, uri: str) -> Path:
        """Where the local copy of the object at ``uri`` is kept."""
        name = uri.rsplit("/", 1)[-1]
        if not _INGEST_NAME.fullmatch(name):  # not written by ingest: any name is safe
            name = hashlib.sha256(uri.encode()).hexdigest()[:32] + _COPY_SUFFIX
        return self.folder / name

    def open(self, info: SplitInfo) -> pa.NativeFile:
        """The split's file, ready for ``pyarrow.ipc.open_file``: the local copy
        memory-mapped, downloaded first when there is none."""
        copy = self.copy_of(info.path)
        for _ in range(2):  # twice: another process may evict the copy just found
            if not copy.is_file():
                try:
                    self._download(info, copy)
                except _LocalWriteFailed:
                    break
                self._evict(keep=copy)
            with contextlib.suppress(OSError):
                os.utime(copy)  # the LRU's clock; a read-only store keeps its order
            with contextlib.suppress(FileNotFoundError):
                return pa.memory_map(str(copy))
        return pa.BufferReader(_read_into_memory(info))

    def discard(self, uri: str) -> None:
        """Remove the local copy of ``uri`` (its split was deleted or replaced)."""
        with contextlib.suppress(OSError):
            self.copy_of(uri).unlink(missing_ok=True)

    @property
    def cached_bytes(self) -> int:
        """Bytes of the local copies now."""
        return sum(size for _, size, _ in self._copies())

    def _download(self, info: SplitInfo, copy: Path) -> None:
        """Stream the object to ``tmp/`` under a staging lock (so a server killed
        mid-download leaves an orphan that the next write removes), check it,
        then rename it into the folder."""
        with contextlib.ExitStack() as cleanup:
            try:
                self.folder.mkdir(exist_ok=True)
                claim = cleanup.enter_context(Staging(self.root))
                part = self.root / TMP_DIR / f"{claim.id}.download"
                cleanup.callback(part.unlink, missing_ok=True)
                sink = cleanup.enter_context(open(part, "xb"))
            except OSError as error:
                raise _LocalWriteFailed from error
            digest = hashlib.sha256()
            for chunk in objects.read_chunks(info.path):  # its errors are the object's
                digest.update(chunk)
                try:
                    sink.write(chunk)
                except OSError as error:
                    raise _LocalWriteFailed from error
            _check(info, digest.hexdigest())
            try:
                sink.close()
                os.replace(part, copy)
            except OSError as error:
                raise _LocalWriteFailed from error

    def _copies(self) -> list[tuple[float, int, Path]]:
        """(mtime, bytes, path) of every copy, oldest first."""
        found = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.folder):
                if entry.name.endswith(_COPY_SUFFIX) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):  # another process evicted it
                        stat = entry.stat(follow_symlinks=False)
                        found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        return sorted(found)

    def _evict(self, keep: Path) -> None:
        """Remove the least recently loaded copies until the folder fits its budget."""
        copies = self._copies()
        total = sum(size for _, size, _ in copies)
        for _, size, path in copies:
            if total <= self.budget_bytes:
                return
            if path == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size


def _read_into_memory(info: SplitInfo) -> pa.Buffer:
    """The whole object in memory (when no local copy can be written), checked."""
    digest = hashlib.sha256()
    sink = pa.BufferOutputStream()
    for chunk in objects.read_chunks(info.path):
        digest.update(chunk)
        sink.write(chunk)
    _check(info, digest.hexdigest())
    return sink.getvalue()


def _check(info: SplitInfo, sha256: str) -> None:
    """The object's SHA-256 (hex) against the checksum the catalog kept at
    ingest: a truncated or damaged object never reaches the engine."""
    if info.checksum is not None and f"sha256:{sha256}" != info.checksum:
        raise ValueError("the object does not match its checksum (it is damaged or truncated)")


def remove_split_file(root: Path, path: str) -> None:
    """Remove a split's file once the catalog no longer lists it (after a
    delete or a replace commits): the local file, or the object and its local
    copy. Best effort, since the change itself is done: a file left behind is
    an orphan that the next write (local) or ``evalql check --repair``
    (objects) removes."""
    with contextlib.suppress(OSError, StoreError):
        if objects.is_object_path(path):
            ObjectCache(root).discard(path)
            objects.remove(path)
        else:
            (Path(root) / path).unlink(missing_ok=True)
