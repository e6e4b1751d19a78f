"""ingest_upload: a stream copied into the store a chunk at a time, under a
lock no orphan sweep breaks, then ingested exactly as evalql ingest would."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pyarrow.csv as pa_csv
import pytest

from evalql.storage import upload as upload_module
from evalql.storage.catalog import TMP_DIR, Catalog
from evalql.storage.errors import IngestError
from evalql.storage.staging import open_for_writing
from evalql.storage.upload import ingest_upload, shown_name, upload_suffix
from tests.storage.conftest import predictions


def _csv() -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(predictions(), sink)
    return sink.getvalue()


class Reads(io.BytesIO):
    """A stream that records the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def test_the_stream_is_copied_a_chunk_at_a_time_and_ingested(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_module, "CHUNK_BYTES", 64)
    source = Reads(_csv())
    source.read(10)  # a stream read before (a spooled upload) is read from its start
    summary = ingest_upload(root, source, "preds.csv", "m", "v1", "test")
    assert summary.rows == 4
    assert Catalog(root).split("m", "v1", "test").row_count == 4
    assert len(source.sizes) > 3 and set(source.sizes[1:]) == {64}
    assert list((root / TMP_DIR).iterdir()) == []


def test_errors_name_the_upload_never_the_copy(root: Path) -> None:
    with pytest.raises(IngestError) as raised:
        ingest_upload(root, io.BytesIO(b"id,actual\n1,A\n"), "dir/My preds.csv", "m", "v1", "t")
    assert str(raised.value).startswith("My preds.csv: ")
    assert str(root) not in str(raised.value) and ".upload" not in str(raised.value)
    assert list((root / TMP_DIR).iterdir()) == []


def test_a_sweep_while_the_upload_is_read_leaves_its_copy_alone(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_for_writing(root)
    copied = threading.Event()
    seen: list[list[str]] = []
    real_ingest = upload_module.ingest_file

    def sweep_first(*args: object) -> object:
        seen.append(sorted(p.suffix for p in (root / TMP_DIR).iterdir()))
        open_for_writing(root)  # another write command's sweep, now
        seen.append(sorted(p.suffix for p in (root / TMP_DIR).iterdir()))
        copied.set()
        return real_ingest(*args)

    monkeypatch.setattr(upload_module, "ingest_file", sweep_first)
    ingest_upload(root, io.BytesIO(_csv()), "p.csv", "m", "v1", "test")
    assert copied.is_set() and seen[0] == seen[1] == [".csv", ".lock"]


@pytest.mark.parametrize(("name", "shown", "suffix"), [
    ("preds.csv", "preds.csv", ".csv"),
    ("../../etc/P.PARQUET", "P.PARQUET", ".parquet"),
    ("C:\\data\\x.jsonl", "x.jsonl", ".jsonl"),
    (None, "upload", ""),
    ("", "upload", ""),
    ("a\nb.csv", "ab.csv", ".csv"),
    ("x." + "y" * 40, "x." + "y" * 40, ""),
    ("n" * 300 + ".csv", "n" * 97 + "...", ".csv"),
])
def test_upload_names_are_shown_plain_and_short(name: str | None, shown: str, suffix: str) -> None:
    assert shown_name(name) == shown
    assert upload_suffix(name) == suffix
