"""The reader registry: formats by suffix, clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

import evalql.storage.readers
from evalql.storage.errors import IngestError
from evalql.storage.readers import READERS, read_table, register_reader


def test_an_unknown_suffix_lists_the_known_ones(inputs: Path) -> None:
    path = inputs / "preds.txt"
    path.write_text("x")
    with pytest.raises(IngestError) as caught:
        read_table(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: unknown file type '.txt'")
    for suffix in (".csv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json", ".feather", ".arrow"):
        assert suffix in message


def test_a_registered_reader_handles_its_suffix(
    inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evalql.storage.readers, "READERS", dict(READERS))
    register_reader(".TSV", lambda path: pa.table({"line": path.read_text().split("\n")}))
    path = inputs / "preds.tsv"
    path.write_text("a\nb")
    assert read_table(path).column("line").to_pylist() == ["a", "b"]


def test_json_means_json_lines(inputs: Path) -> None:
    path = inputs / "preds.json"
    path.write_text('{"actual": "a", "predicted": "b"}\n{"actual": null, "predicted": "a"}\n')
    assert read_table(path).column("actual").to_pylist() == ["a", None]


def test_an_empty_csv_cell_is_null_but_na_is_a_label(inputs: Path) -> None:
    path = inputs / "preds.csv"
    path.write_text("actual,predicted\nNA,\n,b\n")
    table = read_table(path)
    assert table.column("actual").to_pylist() == ["NA", None]
    assert table.column("predicted").to_pylist() == [None, "b"]


def test_an_arrow_ipc_stream_is_read_too(inputs: Path) -> None:
    table = pa.table({"actual": ["a"], "predicted": ["b"]})
    path = inputs / "preds.arrow"
    with ipc.new_stream(str(path), table.schema) as writer:
        writer.write_table(table)
    assert read_table(path).equals(table)


def test_the_pandas_index_column_is_not_data(inputs: Path) -> None:
    path = inputs / "preds.parquet"
    pq.write_table(pa.table({"__index_level_0__": [5], "actual": ["a"]}), path)
    assert read_table(path).column_names == ["actual"]


def test_a_json_array_is_told_to_be_json_lines_even_after_blank_lines(inputs: Path) -> None:
    path = inputs / "preds.json"
    path.write_text('\n  \n[\n  {"actual": "a", "predicted": "b"}\n]\n')
    with pytest.raises(IngestError) as caught:
        read_table(path)
    assert str(caught.value) == f"{path}: expected JSON Lines: one object per line, not a JSON array"


def test_a_directory_is_named_as_one_whatever_its_suffix(inputs: Path) -> None:
    for name in ("folder", "folder.parquet"):
        (inputs / name).mkdir()
        with pytest.raises(IngestError) as caught:
            read_table(inputs / name)
        assert str(caught.value) == f"{inputs / name}: is a directory; give one file of predictions"
