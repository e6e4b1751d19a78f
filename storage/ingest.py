"""Ingest: read, validate, write one Arrow file, commit it to the catalog.

An ingest is atomic. The data file is written under ``tmp/``, fsynced and
renamed into ``splits/``; only then does one ``BEGIN IMMEDIATE`` transaction
re-check everything against the catalog and insert the rows, with the file's
checksum. Any failure removes the staged file and rolls the transaction back,
so the store is exactly as before. A crash can at worst leave an unreferenced
file; the ingest's lock (``storage.staging``) dies with it, and the next
command that writes removes the file.

A store with object storage (``storage.objects``) stages the file locally
the same way, then uploads it to its bucket before the committing
transaction, and records the object's URI as the split's path. A failed
commit removes the object; a crash between the upload and the commit leaves
at worst an orphan object, which ``evalql check`` lists and ``--repair``
removes.

An OSError or SQLite error while writing the store (a full disk, a
permission) becomes one ``StoreIOError`` line; the store is left as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from evalql.storage import objects, run_meta
from evalql.storage.catalog import Catalog, CatalogWriter
from evalql.storage.errors import IngestError, StoreNotFound, store_io
from evalql.storage.model import ColumnInfo, ModelInfo, RunInfo, SplitInfo
from evalql.storage.object_cache import remove_split_file
from evalql.storage.readers import RowProgress, read_table
from evalql.storage.staging import Staging, open_for_writing
from evalql.storage.validate import (
    SLICE_ROWS,
    VALIDATORS,
    ValidTable,
    check_labels_within,
    column_type,
    in_threads,
    preview,
    used_entries,
)

Progress = Callable[[str], None]

TASKS = tuple(VALIDATORS)


# Schema metadata keys of a split file: the file carries the dictionary its
# codes index into (and its task), so it can be decoded without the catalog.
LABELS_KEY = b"evalql.labels"
SCORE_LABELS_KEY = b"evalql.score_labels"
TASK_KEY = b"evalql.task"  # absent in multiclass files

# Test-only: EVALQL_TEST_PAUSE=validate|write|commit makes an ingest stop at
# that stage, so tests/storage/test_crash.py can kill it there (see _pause).
PAUSE_VARIABLE = "EVALQL_TEST_PAUSE"

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class IngestOptions:
    """How to read an input table (the ``evalql ingest`` flags)."""

    task: str = "multiclass"
    labels: tuple[str, ...] | None = None
    id_column: str = "id"
    actual_column: str = "actual"
    predicted_column: str = "predicted"
    confidence_column: str = "confidence"
    scores_column: str = "scores"
    replace: bool = False
    # --run-meta: merged into the run's metadata (storage.run_meta); {} adds nothing.
    run_meta: Mapping[str, object] = field(default_factory=dict)
    # --objects: the s3://bucket/prefix new split files go to, which the store
    # then remembers; None: where the store's setting says (else its folder).
    objects: str | None = None
    # Not a flag: the model's labels when an earlier ingest fixed them, looked
    # up by ingest so a later split's scores need not repeat --labels.
    model_labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest stored; ``str()`` is the line ``evalql ingest`` prints."""

    model: str
    run: str
    split: str
    rows: int
    labels: int  # the split's labels
    replaced: bool
    seconds: float
    metadata_columns: int = 0
    version: int = 1

    def __str__(self) -> str:
        where = f"{self.model}/{self.run}/{self.split}"
        labels = _count(self.labels, "label")
        counts = f"{labels}, {_count(self.metadata_columns, 'metadata column')}"
        rows = _count(self.rows, "row")
        line = f"ingested {rows} into {where} ({counts}) in {self.seconds:.1f} s"
        return line + (f", replacing version {self.version - 1}" if self.replaced else "")


def ingest_file(
    root: Path,
    path: Path,
    model: str,
    run: str,
    split: str,
    options: IngestOptions = IngestOptions(),
    progress: Progress | None = None,
    rows: RowProgress | None = None,
) -> IngestSummary:
    """Store the predictions in ``path`` as the split ``model/run/split``;
    ``progress`` is told each stage, ``rows`` the rows read so far (Parquet)."""
    started = time.perf_counter()
    _check_request(model, run, split, options, str(path))
    _say(progress, "reading")
    # Passed on without a name here, so ingest_table can let the input go
    # once it is validated (at 100M rows, gigabytes).
    summary = ingest_table(
        root, read_table(Path(path), rows), model, run, split, options, str(path), progress
    )
    return _with_seconds(summary, time.perf_counter() - started)


def ingest_table(
    root: Path,
    table: pa.Table,
    model: str,
    run: str,
    split: str,
    options: IngestOptions = IngestOptions(),
    source: str = "<table>",
    progress: Progress | None = None,
) -> IngestSummary:
    """Store ``table`` as the split ``model/run/split``; ``source`` names it in errors."""
    started = time.perf_counter()
    _check_request(model, run, split, options, source)
    if options.objects is not None:
        options = replace(options, objects=objects.parse_location(options.objects))
    _say(progress, "validating")
    _pause("validate")
    if options.scores_column in table.column_names:
        options = _with_model_labels(Path(root), model, options)
    valid = VALIDATORS[options.task](table, options, source)
    del table  # what is stored is in ``valid`` now; the caller keeps no reference
    # The store is touched only once the input is known to be good.
    names = (model, run, split)
    with store_io(Path(root), "write"):
        catalog = open_for_writing(Path(root))
        with catalog.transaction() as tx:  # a fast, early refusal before writing
            _check_against_catalog(tx, valid, names, options, source)
            folder = objects.target_folder(tx, options.objects)
        _say(progress, "writing")
        # The stored layout is one chunk a column. Joined here, once the
        # input's other columns are gone, and one after the other: each
        # replace lets the chunks it copied go (100M rows: 1.2 GB of ids,
        # 1.6 GB of metadata).
        valid = replace(valid, ids=_one_chunk(valid.ids))
        valid = replace(valid, metadata=valid.metadata.combine_chunks())
        with Staging(catalog.root) as staging:
            checksum = _write_staged(staging.staged, valid)
            _pause("write")
            info = _commit_staged(
                catalog, staging, valid, names, options, source, checksum, progress, folder
            )
    return IngestSummary(
        model, run, split, valid.n_rows, len(valid.labels), info.version > 1,
        time.perf_counter() - started, valid.metadata.num_columns, info.version,
    )


def _check_request(model: str, run: str, split: str, options: IngestOptions, source: str) -> None:
    for kind, name in (("model", model), ("run", run), ("split", split)):
        problem = name_problem(name)
        if problem is not None:
            raise IngestError(source, f"the {kind} name {_shown(name)} {problem}")
    if options.task not in TASKS:
        raise IngestError(source, f"task has to be one of {', '.join(TASKS)}, not {options.task!r}")
    problem = run_meta.meta_problem(options.run_meta)
    if problem is not None:
        raise IngestError(source, problem)


def name_problem(name: str) -> str | None:
    """What is wrong with a model, run or split name, or None when it is fine.

    Names travel in GraphQL strings, URLs, ``MODEL/RUN/SPLIT`` paths and one-line
    messages, so they are printable, have no ``/`` and no surrounding spaces, and
    are 1 to ``MAX_NAME_LENGTH`` characters: ``name_problem("v1/test")`` ->
    ``"cannot contain '/'"``.
    """
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name):,} characters long; at most {MAX_NAME_LENGTH} are allowed"
    if "/" in name:
        return "cannot contain '/'"
    if not name.isprintable():
        return "has to be printable (no tabs, newlines or control characters)"
    if name != name.strip():
        return "cannot start or end with a space"
    return None


def _shown(name: str) -> str:
    """``name`` for a message: repr, so control characters show; long ones cut."""
    return repr(name) if len(name) <= 60 else repr(name[:57]) + "..."


def _with_model_labels(root: Path, model: str, options: IngestOptions) -> IngestOptions:
    """``options`` with the model's fixed labels, when it exists with fixed
    labels and --labels is not given: a later split's scores then follow them.

    Read without creating the store, which is touched only once the input is
    known to be good; the committing transaction re-checks the labels.
    """
    if options.labels is not None:
        return options
    try:
        info = Catalog(root, create=False).model(model)
    except StoreNotFound:
        return options
    if info is None or not info.labels_fixed:
        return options
    return replace(options, model_labels=info.labels)


def _check_against_catalog(
    tx: CatalogWriter, valid: ValidTable, names: tuple[str, str, str], options: IngestOptions,
    source: str,
) -> None:
    """Refuse what the existing model or split forbids (runs before writing and
    again inside the committing transaction, where it is authoritative)."""
    model = tx.model(names[0])
    if model is not None:
        _check_model(model, valid, options, source)
    if not options.replace and tx.split(*names) is not None:
        raise IngestError(source, f"split {'/'.join(names)} already exists (use --replace)")


def _check_model(model: ModelInfo, valid: ValidTable, options: IngestOptions, source: str) -> None:
    if model.task != options.task:
        message = f"model {model.name} is {model.task}; this file is {options.task}"
        raise IngestError(source, message)
    if options.labels is not None and tuple(options.labels) != model.labels:
        message = f"--labels differ from the labels of model {model.name}: {preview(model.labels)}"
        raise IngestError(source, message)
    if model.labels_fixed:
        check_labels_within(valid, model.labels, f"the fixed labels of model {model.name}", source)


def _write_staged(staged: Path, valid: ValidTable) -> str:
    """Write the split file at ``staged`` and fsync it; returns its checksum.

    (``Staging`` removes the file if anything after this fails.)
    """
    table = _split_table(valid)
    with open(staged, "wb") as file, _HashedFile(file) as sink:
        with ipc.new_file(sink, table.schema) as writer:  # uncompressed: mmap-able
            writer.write_table(table)
        del table
        file.flush()
        os.fsync(file.fileno())
    return sink.checksum()


class _HashedFile:
    """A file being written that hashes what it is given, as ``file_checksum``
    would hash the file: each large buffer is hashed on a second thread while
    this one copies it into the file (both let go of the GIL), so the digest
    costs neither a read of the file afterwards nor wall time of its own."""

    # Smaller pieces (the IPC format's headers and padding) are hashed in turn.
    PARALLEL_BYTES = 1 << 20

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._digest = hashlib.sha256()
        self._written = 0
        self._pool = ThreadPoolExecutor(1)

    # What pyarrow asks of a Python file it writes to.
    closed = False

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        if view.nbytes < self.PARALLEL_BYTES:
            self._digest.update(view)
            self._file.write(view)
        else:
            hashed = self._pool.submit(self._digest.update, view)
            try:
                self._file.write(view)
            finally:
                hashed.result()  # before returning: the caller may reuse the buffer
        self._written += view.nbytes
        return view.nbytes

    def flush(self) -> None:
        self._file.flush()

    def tell(self) -> int:
        return self._written

    def writable(self) -> bool:
        return True

    def checksum(self) -> str:
        """``"sha256:<hex>"`` of everything written."""
        return "sha256:" + self._digest.hexdigest()

    def __enter__(self) -> _HashedFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)


def _one_chunk(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.Array):
        return column
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


def file_checksum(path: Path) -> str:
    """``"sha256:<hex>"`` of the file's bytes, what the catalog keeps per split.

    SHA-256 because it is the fastest hashlib digest here (hardware
    instructions, about 1.2 GB/s against BLAKE2b's 0.7), and a checksum is
    only for telling a damaged file, not for security. Read back after the
    fsync, the bytes come from the page cache.
    """
    with open(path, "rb") as file:
        return "sha256:" + hashlib.file_digest(file, "sha256").hexdigest()


def _compact(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A string column with repeated values, dictionary-encoded.

    Filters then test each distinct value once instead of every row's string;
    a column of mostly distinct values (free text) stays as it is.
    """
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    encoded = column.combine_chunks().dictionary_encode()
    if len(encoded.dictionary) * 2 > max(len(encoded), 1):
        return column
    return pa.chunked_array([encoded])


def _split_table(valid: ValidTable) -> pa.Table:
    """The stored layout: reserved "__" columns, then the metadata columns."""
    dictionary = pa.array(valid.labels, pa.string())
    columns = {"__id": valid.ids}
    metadata = {LABELS_KEY: json.dumps(valid.labels).encode()}
    if valid.task == "multilabel":
        columns |= _label_set_columns(valid, dictionary)
        metadata[TASK_KEY] = valid.task.encode()
    else:
        actual, predicted = in_threads(
            lambda labels: _codes(labels, dictionary), [valid.actual, valid.predicted]
        )
        columns |= {
            "__actual": actual,
            "__predicted": predicted,
            "__confidence": pa.array(valid.confidence, pa.float32()),
        }
    if valid.scores is not None:
        k = valid.scores.shape[1]
        columns["__scores"] = pa.FixedSizeListArray.from_arrays(
            pa.array(valid.scores.ravel(), pa.float32()), k
        )
        metadata[SCORE_LABELS_KEY] = json.dumps(valid.score_labels).encode()
    for name in valid.metadata.column_names:
        columns[name] = _compact(valid.metadata.column(name))
    # One record batch, so every column loads as one zero-copy NumPy view.
    return pa.table(columns).replace_schema_metadata(metadata).combine_chunks()


def _label_set_columns(valid: ValidTable, dictionary: pa.Array) -> dict[str, pa.Array]:
    """Multilabel rows as large_list columns: each one is a CSR matrix, int64
    offsets plus a flat values buffer, which loads as zero-copy NumPy views
    (see ``storage.datasets.MultilabelColumns`` for why CSR). ``__confidence``
    repeats ``__predicted``'s offsets, so it stays a plain, self-describing
    Arrow column; loading checks that the two agree."""
    predicted_offsets = valid.predicted.offsets
    return {
        "__actual": _list_codes(valid.actual, dictionary),
        "__predicted": _list_codes(valid.predicted, dictionary),
        "__confidence": pa.LargeListArray.from_arrays(
            predicted_offsets, pa.array(valid.confidence, pa.float32())
        ),
    }


def _list_codes(lists: pa.LargeListArray, dictionary: pa.Array) -> pa.LargeListArray:
    """large_list<int32> codes into ``dictionary``; every label is in it."""
    codes = pc.index_in(lists.values, value_set=dictionary).cast(pa.int32())
    return pa.LargeListArray.from_arrays(lists.offsets, codes)


def _codes(labels: pa.DictionaryArray, dictionary: pa.Array) -> pa.Array:
    """int32 codes into ``dictionary``; None becomes -1.

    Each entry of the labels' own dictionary is looked up once; the rows then
    go through that small table, a slice at a time.
    """
    entries = pc.index_in(labels.dictionary, value_set=dictionary)
    lookup = pc.fill_null(entries, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    lookup = np.append(lookup, np.int32(-1))  # where a null row's index points
    codes = np.empty(len(labels), dtype=np.int32)
    null_index = len(labels.dictionary)
    for start in range(0, len(labels), SLICE_ROWS):
        part = labels.indices.slice(start, SLICE_ROWS)
        if part.null_count:
            part = pc.fill_null(part, null_index)
        np.take(lookup, part.to_numpy(), out=codes[start : start + len(part)])
    return pa.array(codes)


def _commit_staged(
    catalog: Catalog, staging: Staging, valid: ValidTable, names: tuple[str, str, str],
    options: IngestOptions, source: str, checksum: str, progress: Progress | None,
    folder: str | None,
) -> SplitInfo:
    """Move the staged file into splits/ (or upload it to the store ``folder``
    on object storage) and record it. On any failure ``staging`` removes the
    local file, an uploaded object is removed, and the transaction rolls back."""
    if folder is None:
        os.replace(staging.staged, staging.final)
        _fsync_directory(staging.final.parent)
        path = staging.final.relative_to(catalog.root).as_posix()
    else:
        path = objects.split_uri(folder, staging.id)
    try:
        if folder is not None:
            _say(progress, "uploading")
            objects.upload(staging.staged, path)
        _say(progress, "committing")
        with catalog.transaction() as tx:
            _check_against_catalog(tx, valid, names, options, source)
            old = tx.split(*names)
            info = _record(tx, valid, names, options, path, checksum, old, source)
            if options.objects is not None:  # the store remembers where its files go
                tx.put_setting(objects.OBJECTS_SETTING, options.objects)
            _pause("commit")
    except BaseException:
        if folder is not None:
            remove_split_file(catalog.root, path)
        raise
    if folder is None:
        staging.committed()  # keep the file the catalog lists; an uploaded one's copy goes
    if old is not None:
        # A server may still have the old file memory-mapped: on POSIX the
        # mapping outlives the unlink; where removing fails, the orphan sweep
        # of a later ingest (or check --repair, for an object) retries.
        # Either way the ingest itself succeeded.
        remove_split_file(catalog.root, old.path)
    return info


def _column_info(metadata: pa.Table, field: pa.Field) -> ColumnInfo:
    """The catalog's record of a metadata column; a string column's number
    of distinct values too (what a breakdown of it can cost, api/cost.py)."""
    kind = column_type(field.type)
    if kind != "string":
        return ColumnInfo(field.name, kind)
    column = metadata.column(field.name)
    if pa.types.is_dictionary(field.type) and column.num_chunks == 1:
        # The entries some row holds, not a hash of every row.
        encoded = column.chunk(0)
        held = pa.array(used_entries(encoded), pa.bool_())
        distinct = pc.unique(encoded.dictionary.filter(held))
    else:
        distinct = column.unique()
    return ColumnInfo(field.name, kind, len(distinct) - distinct.null_count)


def _record(
    tx: CatalogWriter, valid: ValidTable, names: tuple[str, str, str], options: IngestOptions,
    path: str, checksum: str, old: SplitInfo | None, source: str,
) -> SplitInfo:
    model, run, split = names
    tx.put_model(_model_info(tx, names, valid, options))
    tx.put_run(RunInfo(model, run, datetime.now(UTC)))
    if options.run_meta:
        _merge_run_meta(tx, model, run, options.run_meta, source)
    columns = tuple(_column_info(valid.metadata, field) for field in valid.metadata.schema)
    version = 1 if old is None else old.version + 1
    info = SplitInfo(
        model, run, split, valid.n_rows, columns, version, path, valid.scores is not None,
        checksum,
    )
    tx.put_split(info, valid.labels)
    return info


def _merge_run_meta(
    tx: CatalogWriter, model: str, run: str, meta: Mapping[str, object], source: str
) -> None:
    """Merge ``meta`` into the run's metadata, in the committing transaction:
    two ingests into one run, even at once, each merge into what the other left."""
    existing = tx.run(model, run)
    merged = run_meta.merge({} if existing is None else existing.meta, meta)
    problem = run_meta.merged_problem(merged)
    if problem is not None:
        raise IngestError(source, problem)
    tx.put_run_meta(model, run, merged)


def _model_info(
    tx: CatalogWriter, names: tuple[str, str, str], valid: ValidTable, options: IngestOptions
) -> ModelInfo:
    """The model after this ingest: fixed labels stay; otherwise the sorted union
    of every split's labels, recomputed so a replaced split's labels drop out."""
    name, run, split = names
    model = tx.model(name)
    if model is not None and model.labels_fixed:
        return model
    if model is None and options.labels is not None:
        return ModelInfo(name, options.task, tuple(options.labels), True)
    others = tx.labels_in_splits(name, excluding=(run, split))
    return ModelInfo(name, options.task, tuple(sorted(others | set(valid.labels))), False)


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pause(stage: str) -> None:
    """Test-only hook: with EVALQL_TEST_PAUSE set to ``stage``, say so on
    stderr and sleep, so a test can SIGKILL the ingest at that exact point."""
    if os.environ.get(PAUSE_VARIABLE) == stage:
        print(f"{PAUSE_VARIABLE}: paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(3600)


def _say(progress: Progress | None, stage: str) -> None:
    if progress is not None:
        progress(stage)


def _with_seconds(summary: IngestSummary, seconds: float) -> IngestSummary:
    return replace(summary, seconds=seconds)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
