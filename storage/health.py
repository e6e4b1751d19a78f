"""Whether a store can be read and written: what ``/healthz`` reports.

``store_health(root)`` -> ``(True, None)``, or ``(False, reason)`` with a
one-line reason such as ``"cannot write the store at /data/s: No space left
on device"``. A server keeps answering queries from a store it cannot write
(reads never write), so "degraded" rather than down.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from evalql.storage import schema
from evalql.storage.catalog import CATALOG_FILE, TMP_DIR
from evalql.storage.errors import StoreError, StoreNotFound, store_io

# One file-system block: enough that a full disk refuses it (a file of no
# bytes needs only an inode, and a full disk often has inodes left).
_PROBE_BYTES = 4096


def store_health(root: Path) -> tuple[bool, str | None]:
    """``(ok, reason)``: ok when the catalog can be read and a small file can
    be created, written and removed in the store's ``tmp/`` folder."""
    root = Path(root)
    try:
        _read_catalog(root)
        _write_probe(root)
    except StoreError as error:
        return False, str(error)
    return True, None


def _read_catalog(root: Path) -> None:
    path = root / CATALOG_FILE
    if not path.is_file():
        raise StoreNotFound(root.resolve())
    with store_io(root, "read"):
        # mode=rw without create, as Catalog's reader: it never writes, but
        # can roll back the journal of a writer killed mid-commit.
        uri = f"file:{quote(str(path.resolve()))}?mode=rw"
        with closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as conn:
            if not schema.has_table(conn, "splits"):
                raise StoreNotFound(root.resolve())
            conn.execute("SELECT count(*) FROM splits").fetchone()


def _write_probe(root: Path) -> None:
    # In tmp/, where a probe left by a killed process is swept as an orphan.
    probe = root / TMP_DIR / f"health-{uuid.uuid4().hex}.probe"
    with store_io(root, "write"):
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0" * _PROBE_BYTES)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
