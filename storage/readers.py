"""Input file readers, chosen by suffix: a dict plus a register function."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from evalql.storage.errors import IngestError

Reader = Callable[[Path], pa.Table]
# Told (stage, rows read so far, rows in all) as a reader goes.
RowProgress = Callable[[str, int, int], None]

READERS: dict[str, Reader] = {}
# Readers that can say how far they are, by the reader they stand in for:
# used when someone listens (an ingest on a terminal).
_COUNTING_READERS: dict[Reader, Callable[[Path, RowProgress], pa.Table]] = {}

# pandas writes a non-default index as "__index_level_N__" columns; they are
# the DataFrame's bookkeeping, not the user's data.
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


def register_reader(suffix: str, reader: Reader) -> None:
    """Read files ending in ``suffix`` (like ``".csv"``, case-insensitive) with ``reader``."""
    READERS[suffix.lower()] = reader


def read_table(path: Path, progress: RowProgress | None = None) -> pa.Table:
    """The table in ``path``; any failure is an IngestError naming the file.

    ``read_table(Path("preds.csv"))`` -> a ``pa.Table``; ``Path("preds.txt")`` ->
    IngestError "preds.txt: unknown file type '.txt'; known: .arrow, .csv, ...".
    """
    if path.is_dir():
        raise IngestError(str(path), "is a directory; give one file of predictions")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise IngestError(str(path), f"unknown file type {path.suffix!r}; known: {known}")
    if not path.is_file():
        raise IngestError(str(path), "no such file")
    counting = _COUNTING_READERS.get(reader) if progress is not None else None
    try:
        table = reader(path) if counting is None else counting(path, progress)  # type: ignore[arg-type]
    except (pa.ArrowException, OSError, ValueError) as error:
        raise IngestError(str(path), f"cannot read the file: {_one_line(error)}") from error
    return table.drop_columns([c for c in table.column_names if _PANDAS_INDEX.fullmatch(c)])


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# Parquet is read through a memory map: the pages are decoded from the page
# cache where they lie, without first copying the file into buffers
# (10M rows: 0.41-0.44 s of CPU against 0.47-0.68).
def _read_parquet(path: Path) -> pa.Table:
    return pq.read_table(path, memory_map=True)


def _read_parquet_counting(path: Path, progress: RowProgress) -> pa.Table:
    """``_read_parquet`` a row group at a time, telling ``progress`` the rows read."""
    source = pq.ParquetFile(path, memory_map=True)
    total, done, parts = source.metadata.num_rows, 0, []
    progress("reading", 0, total)
    for group in range(source.num_row_groups):
        parts.append(source.read_row_group(group))
        done += parts[-1].num_rows
        progress("reading", done, total)
    return pa.concat_tables(parts) if parts else source.schema_arrow.empty_table()


def _read_csv(path: Path) -> pa.Table:
    # Only an empty cell is null: labels such as "NA" or "None" stay labels.
    # strings_can_be_null makes an empty actual/predicted cell None, not "".
    convert = pa_csv.ConvertOptions(null_values=[""], strings_can_be_null=True)
    return pa_csv.read_csv(path, convert_options=convert)


def _read_json_lines(path: Path) -> pa.Table:
    # `.json` is read as JSON Lines too, since that is what most tools write
    # under that name; a JSON array (one document) gets its own hint, since
    # Arrow's parse error does not say what is expected.
    if _first_character(path) == "[":
        raise IngestError(
            str(path), "expected JSON Lines: one object per line, not a JSON array"
        )
    return pa_json.read_json(path)


def _first_character(path: Path) -> str:
    """The first non-blank character of a text file ('' when blank)."""
    with open(path, "rb") as file:
        while chunk := file.read(4096):
            text = chunk.lstrip(b" \t\r\n\xef\xbb\xbf")  # a UTF-8 BOM too
            if text:
                return text[:1].decode("latin-1")
    return ""


def _read_arrow(path: Path) -> pa.Table:
    # Feather v1/v2 and the Arrow IPC file format; an IPC *stream* has no footer.
    try:
        return feather.read_table(path, memory_map=False)
    except pa.ArrowInvalid as error:
        try:
            with pa.OSFile(str(path)) as source:
                return ipc.open_stream(source).read_all()
        except pa.ArrowException:
            raise error from None  # the file-format message is the one that helps


for _suffix, _reader in {
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
    ".csv": _read_csv,
    ".jsonl": _read_json_lines,
    ".ndjson": _read_json_lines,
    ".json": _read_json_lines,
    ".feather": _read_arrow,
    ".arrow": _read_arrow,
    ".ipc": _read_arrow,
}.items():
    register_reader(_suffix, _reader)
_COUNTING_READERS[_read_parquet] = _read_parquet_counting
