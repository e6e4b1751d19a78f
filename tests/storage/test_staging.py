"""Orphans: a file is an orphan when no live ingest holds its lock, whatever its age."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from evalql.storage.catalog import Catalog
from evalql.storage.ingest import IngestOptions, ingest_table
from evalql.storage.staging import (
    Staging,
    find_orphans,
    open_for_writing,
    remove_orphans,
)
from tests.storage.conftest import predictions


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for d in ("tmp", "splits")
                  for p in (root / d).iterdir())


def test_files_left_by_a_killed_ingest_are_removed_by_the_next_write_whatever_their_age(
    root: Path,
) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    kept = listing(root)
    left = [root / "tmp/a.arrow", root / "tmp/a.lock", root / "splits/b.arrow"]
    for path in left:
        path.write_bytes(b"partial")  # written a moment ago: age does not protect it
    ingest_table(root, predictions(), "m", "r", "s2")
    assert not any(path.exists() for path in left)
    catalog = Catalog(root)
    assert listing(root) == sorted([*kept, catalog.split("m", "r", "s2").path])


def test_a_live_ingests_files_are_never_touched_by_a_sweep(root: Path) -> None:
    catalog = open_for_writing(root)
    with Staging(root) as live:
        live.staged.write_bytes(b"being written")
        os.replace(live.staged, live.final)  # between the rename and the commit
        assert find_orphans(catalog) == [] and remove_orphans(catalog) == []
        ingest_table(root, predictions(), "m", "r", "s")  # its sweep too
        assert live.final.exists() and live.lock_path.exists()
    assert not live.final.exists() and not live.lock_path.exists()  # not committed: cleaned


def test_a_lock_held_by_another_process_protects_its_files(root: Path) -> None:
    catalog = open_for_writing(root)
    (root / "tmp/x.arrow").write_bytes(b"partial")
    (root / "tmp/x.lock").touch()
    code = (
        "import fcntl, os, time\n"
        f"fd = os.open({str(root / 'tmp/x.lock')!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline() == "locked\n"
            assert remove_orphans(catalog) == []
            assert (root / "tmp/x.arrow").exists()
        finally:
            holder.kill()
    # The kernel released the dead process's lock: now they are orphans.
    assert find_orphans(catalog) == ["tmp/x.arrow", "tmp/x.lock"]
    assert remove_orphans(catalog) == ["tmp/x.arrow", "tmp/x.lock"]
    assert listing(root) == []


def test_a_committed_split_file_is_never_an_orphan(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    catalog = Catalog(root)
    path = catalog.split("m", "r", "s").path
    assert find_orphans(catalog) == [] and listing(root) == [path]


def test_the_file_a_replace_could_not_delete_is_an_orphan(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    old = Catalog(root).split("m", "r", "s").path
    copy = (root / old).read_bytes()
    replacing = IngestOptions(replace=True)
    ingest_table(root, predictions(tokens=pa.array([1, 2, 3, 4])), "m", "r", "s", replacing)
    (root / old).write_bytes(copy)  # as if the unlink had failed
    assert find_orphans(Catalog(root)) == [old]


def test_a_staging_lock_is_exclusive_and_released_on_exit(root: Path) -> None:
    open_for_writing(root)
    with Staging(root) as staging:
        fd = os.open(staging.lock_path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                raise AssertionError("the lock should be held")
            except BlockingIOError:
                pass
        finally:
            os.close(fd)
    assert listing(root) == []
