"""``evalql check``: the catalog against the files, and each file against its checksum.

Problems (they make ``check`` exit 1): a split whose file is missing, a file
that does not match the checksum kept at ingest (or, for a file ingested
before checksums, that cannot be read), and orphan files that a killed ingest
left in ``tmp/`` or ``splits/``. ``--repair`` migrates the catalog to the
current schema and removes orphans; it never deletes a split or marks one
destroyed, since a missing or damaged file might yet be restored (the server
answers DATA_UNAVAILABLE for that split only, meanwhile).

Splits on object storage (``storage.objects``) are checked the same way: each
object is read whole and checked against its checksum (so ``check`` downloads
every object once). Orphan objects are those in the store's own folder
(``.../store-<id>/splits/``) of every location its splits use, its
``objects`` setting and ``--objects``, that the catalog does not list and no
live ingest holds; they are listed, and ``--repair`` removes them. Orphan
objects are left to ``check --repair`` rather than every write, which would
list the bucket each time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from evalql.storage import objects, schema
from evalql.storage.catalog import Catalog
from evalql.storage.errors import StoreError
from evalql.storage.ingest import file_checksum
from evalql.storage.model import SplitInfo
from evalql.storage.staging import find_orphans, prepare_for_writing, unless_live

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CheckReport:
    """What ``check_store`` found and did; ``lines()`` is what ``evalql check`` prints."""

    root: Path
    splits: int
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The repairs, the problems and the notes, then one summary line."""
        return [*self.repaired, *self.problems, *self.notes, self.summary()]

    def summary(self) -> str:
        counted = f"store {self.root}: {_count(self.splits, 'split')} checked"
        if self.healthy:
            return f"{counted}, no problems"
        hint = ""
        if any(line.startswith("orphan") for line in self.problems):
            hint = " ('evalql check --repair' removes the orphan files)"
        return f"{counted}, {_count(len(self.problems), 'problem')}{hint}"


@dataclass
class _Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def check_store(
    root: Path, repair: bool = False, progress: Progress | None = None,
    objects_location: str | None = None,
) -> CheckReport:
    """Verify the store at ``root`` (StoreNotFound when there is none); with
    ``repair``, first migrate its catalog and remove its orphans.
    ``objects_location`` (``--objects``) is one more object storage location
    whose store folder is searched for orphans."""
    catalog = Catalog(root, create=False)
    found = _Findings()
    if repair:
        _repair(catalog, found)
    else:
        _check_version(catalog, found)
        found.problems.extend(
            f"orphan {path}: not in the catalog and no running ingest holds it"
            for path in find_orphans(catalog)
        )
    _orphan_objects(catalog, objects_location, repair, found)
    splits = catalog.snapshot().all_splits()
    unchecked = 0
    for number, split in enumerate(splits, 1):
        if progress is not None:
            progress(f"checking split {number:,} of {len(splits):,}")
        problem = _check_split(catalog.root, split)
        if problem is not None:
            found.problems.append(problem)
        unchecked += split.checksum is None
    if unchecked:
        found.notes.append(
            f"{_count(unchecked, 'split')} ingested before checksums were kept: "
            "read, not checksummed"
        )
    return CheckReport(
        catalog.root.resolve(), len(splits), tuple(found.problems), tuple(found.notes),
        tuple(found.repaired),
    )


def _repair(catalog: Catalog, found: _Findings) -> None:
    opened = prepare_for_writing(catalog.root)  # what every write command does first
    if opened.migrated_from is not None:
        found.repaired.append(
            f"migrated the catalog from schema version {opened.migrated_from} "
            f"to {schema.SCHEMA_VERSION}"
        )
    found.repaired.extend(f"removed orphan {path}" for path in opened.removed)


def _check_version(catalog: Catalog, found: _Findings) -> None:
    version = catalog.schema_version()
    if version < schema.SCHEMA_VERSION:
        found.notes.append(
            f"the catalog is at schema version {version}; the next write or "
            f"'evalql check --repair' migrates it to {schema.SCHEMA_VERSION}"
        )
    elif version > schema.SCHEMA_VERSION:
        found.notes.append(
            f"the catalog is at schema version {version}, newer than this evalql's "
            f"{schema.SCHEMA_VERSION}: it can read the store, not write to it"
        )


def _orphan_objects(
    catalog: Catalog, location: str | None, repair: bool, found: _Findings
) -> None:
    """List (or, with ``repair``, remove) the objects in the store's folders
    that the catalog does not list and no live ingest holds."""
    store_id = catalog.setting(objects.STORE_ID_SETTING)
    if store_id is None:
        return  # a catalog before version 2 has no object storage
    folders = {
        split.path.rsplit("/splits/", 1)[0]
        for split in catalog.snapshot().all_splits() if objects.is_object_path(split.path)
    }
    for where in (catalog.setting(objects.OBJECTS_SETTING), location):
        if where is not None:
            folders.add(objects.store_folder(objects.parse_location(where), store_id))
    for folder in sorted(folders):
        try:
            listed = objects.list_files(f"{folder}/splits")
        except StoreError as error:
            found.problems.append(f"cannot look for orphan objects: {error}")
            continue
        paths = catalog.paths()
        for uri in listed:
            if uri in paths:
                continue
            with unless_live(catalog.root, objects.ingest_id_of(uri)) as free:
                # Read again once the lock is ours: an ingest may have just committed it.
                if not free or uri in catalog.paths():
                    continue
                if not repair:
                    found.problems.append(
                        f"orphan {uri}: not in the catalog and no running ingest holds it"
                    )
                    continue
                try:
                    objects.remove(uri)
                except StoreError as error:
                    found.problems.append(f"orphan {uri}: {error}")
                else:
                    found.repaired.append(f"removed orphan {uri}")


def _check_split(root: Path, split: SplitInfo) -> str | None:
    """What is wrong with the split's file, or None."""
    name = f"split {split.model}/{split.run}/{split.name}"
    if objects.is_object_path(split.path):
        return _check_object(name, split)
    path = root / split.path
    if not path.is_file():
        return f"{name}: its file {split.path} is missing"
    try:
        if split.checksum is not None:
            if file_checksum(path) != split.checksum:
                return f"{name}: {split.path} does not match its checksum (the file is damaged)"
            return None
        return _readable(path, split)
    except OSError as error:
        return f"{name}: cannot read {split.path}: {error.strerror}"


def _check_object(name: str, split: SplitInfo) -> str | None:
    """What is wrong with the split's object, or None: it is read whole and
    checked against its checksum (or, without one, read as Arrow)."""
    digest, data = hashlib.sha256(), pa.BufferOutputStream()
    try:
        for chunk in objects.read_chunks(split.path):
            digest.update(chunk)
            if split.checksum is None:
                data.write(chunk)
    except FileNotFoundError:
        return f"{name}: its object {split.path} is missing"
    except (OSError, StoreError) as error:
        return f"{name}: cannot read {split.path}: {objects.reason(error)}"
    if split.checksum is None:
        return _readable(pa.BufferReader(data.getvalue()), split)
    if f"sha256:{digest.hexdigest()}" != split.checksum:
        return f"{name}: {split.path} does not match its checksum (the object is damaged)"
    return None


def _readable(path: Path | pa.NativeFile, split: SplitInfo) -> str | None:
    """For a file without a checksum: whether Arrow reads it and its row count
    is the catalog's."""
    name = f"split {split.model}/{split.run}/{split.name}"
    try:
        source = path if isinstance(path, pa.NativeFile) else pa.memory_map(str(path))
        with source:
            rows = ipc.open_file(source).read_all().num_rows
    except (pa.ArrowException, ValueError) as error:
        return f"{name}: cannot read {split.path}: {' '.join(str(error).split())}"
    if rows != split.row_count:
        return f"{name}: {split.path} has {rows:,} rows, the catalog says {split.row_count:,}"
    return None


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
