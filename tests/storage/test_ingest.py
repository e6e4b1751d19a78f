"""Ingest round trips, replacement, label bookkeeping and concurrency."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from evalql.storage.catalog import Catalog, CatalogWriter
from evalql.storage.datasets import SplitData, SplitStore
from evalql.storage.ingest import IngestOptions, ingest_file, ingest_table
from tests.storage.conftest import ACTUAL, IDS, PREDICTED, predictions, snapshot, write

FORMATS = [".csv", ".parquet", ".jsonl", ".feather"]
METADATA_TYPES = {
    "region": "string", "tokens": "int", "score": "float", "flagged": "bool",
    "seen_at": "timestamp",
}


def load(root: Path, model: str = "m", run: str = "r", split: str = "s") -> SplitData:
    store = SplitStore(root)
    info = store.catalog.split(model, run, split)
    assert info is not None
    return store.load(info)


def decoded(data: SplitData, codes: np.ndarray) -> list[str | None]:
    return [data.labels[code] if code >= 0 else None for code in codes]


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_round_trips_to_the_same_rows(root: Path, inputs: Path, suffix: str) -> None:
    path = write(predictions(), inputs / f"preds{suffix}")
    ingest_file(root, path, "m", "r", "s")
    data = load(root)
    assert data.ids.to_pylist() == [str(i) for i in IDS]
    assert decoded(data, data.columns.actual) == ACTUAL
    assert decoded(data, data.columns.predicted) == PREDICTED
    assert data.columns.confidence.dtype == np.float32
    assert data.columns.confidence.tolist() == pytest.approx([0.9, 1.0, 0.25, 0.5])
    assert {c.name: c.type for c in data.info.columns} == METADATA_TYPES
    assert data.metadata.column("region").to_pylist() == ["eu", "us", None, "eu"]


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
def test_typed_formats_keep_metadata_columns_exactly(root: Path, inputs: Path, suffix: str) -> None:
    table = predictions(day=pa.array([None, 1, 2, 3], pa.int32()).cast(pa.date32()))
    ingest_file(root, write(table, inputs / f"preds{suffix}"), "m", "r", "s")
    data = load(root)
    expected = table.drop_columns(["id", "actual", "predicted", "confidence"])
    # Repetitive string columns are stored dictionary-encoded: same values, same type name.
    assert data.metadata.column("region").type == pa.dictionary(pa.int32(), pa.string())
    decoded = data.metadata.set_column(0, "region", data.metadata.column("region").cast(pa.string()))
    assert decoded.equals(expected)
    assert dict((c.name, c.type) for c in data.info.columns)["day"] == "date"


def test_a_missing_confidence_column_means_full_confidence(root: Path) -> None:
    ingest_table(root, predictions(confidence=None), "m", "r", "s")
    assert load(root).columns.confidence.tolist() == [1.0] * 4


def test_a_missing_id_column_numbers_the_rows_from_zero(root: Path) -> None:
    ingest_table(root, predictions(id=None), "m", "r", "s")
    assert load(root).ids.to_pylist() == ["0", "1", "2", "3"]


def test_string_ids_and_integer_labels_are_kept_as_text(root: Path) -> None:
    table = predictions(
        id=pa.array(["a", "b", "c", "d"]),
        actual=pa.array([0, 1, None, 1]),
        predicted=pa.array([1, 1, 0, None]),
    )
    ingest_table(root, table, "m", "r", "s")
    data = load(root)
    assert data.ids.to_pylist() == ["a", "b", "c", "d"]
    assert decoded(data, data.columns.actual) == ["0", "1", None, "1"]


def test_scores_come_back_in_the_models_label_order(root: Path) -> None:
    scores = [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [1.0, 0.0, 0.0], [0.5, 0.25, 0.25]]
    table = predictions(scores=pa.array(scores, pa.list_(pa.float64())))
    options = IngestOptions(labels=("dog", "cat", "bird"))
    ingest_table(root, table, "m", "r", "s", options)
    data = load(root)
    assert data.labels == ("dog", "cat", "bird")
    assert data.columns.scores is not None and data.columns.scores.dtype == np.float32
    np.testing.assert_allclose(data.columns.scores, np.array(scores, dtype=np.float32))
    assert data.info.has_scores


def test_the_loaded_arrays_are_read_only(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    data = load(root)
    for array in (data.columns.actual, data.columns.predicted, data.columns.confidence):
        assert not array.flags.writeable


def test_the_summary_is_one_line_with_counts(root: Path) -> None:
    summary = ingest_table(root, predictions(), "support-bot", "v1", "validation")
    pattern = (
        r"ingested 4 rows into support-bot/v1/validation "
        r"\(3 labels, 5 metadata columns\) in \d+\.\d s"
    )
    assert re.fullmatch(pattern, str(summary))
    assert (summary.rows, summary.labels, summary.replaced) == (4, 3, False)


def test_the_summary_says_1_row_and_1_label_in_the_singular(root: Path) -> None:
    one = pa.table({"actual": ["dog"], "predicted": ["dog"], "region": ["eu"]})
    summary = ingest_table(root, one, "m", "r", "s")
    assert re.fullmatch(
        r"ingested 1 row into m/r/s \(1 label, 1 metadata column\) in \d+\.\d s", str(summary)
    ), str(summary)


def test_confidences_within_the_float32_tolerance_are_clipped_to_0_and_1(root: Path) -> None:
    confidence = pa.array([1.0000001, 1 + 1e-6, -1e-6, 0.5], pa.float64())
    ingest_table(root, predictions(confidence=confidence), "m", "r", "s")
    assert load(root).columns.confidence.tolist() == [1.0, 1.0, 0.0, 0.5]


def test_progress_reports_each_stage_in_order(root: Path, inputs: Path) -> None:
    stages: list[str] = []
    path = write(predictions(), inputs / "preds.parquet")
    ingest_file(root, path, "m", "r", "s", progress=stages.append)
    assert stages == ["reading", "validating", "writing", "committing"]


def test_replace_bumps_the_version_and_serves_the_new_rows(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    first = load(root)
    replacement = predictions(actual=pa.array(["cat"] * 4), predicted=pa.array(["cat"] * 4))
    summary = ingest_table(root, replacement, "m", "r", "s", IngestOptions(replace=True))
    second = load(root)
    assert summary.replaced and str(summary).endswith("replacing version 1")
    assert second.info.version == first.info.version + 1 == 2
    assert decoded(second, second.columns.actual) == ["cat"] * 4
    assert not (root / first.info.path).exists()
    assert sorted(os.listdir(root / "splits")) == [Path(second.info.path).name]


def test_model_labels_are_the_sorted_union_of_its_splits(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "train")
    later = predictions(actual=pa.array(["ant", "cat", "eel", None]))
    ingest_table(root, later, "m", "r2", "test")
    model = Catalog(root).model("m")
    assert model is not None and not model.labels_fixed
    assert model.labels == ("ant", "bird", "cat", "dog", "eel")


def test_an_earlier_split_decodes_correctly_after_a_later_split_adds_labels(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    store = SplitStore(root)
    before = store.load(store.catalog.split("m", "r", "s"))
    ingest_table(root, predictions(actual=pa.array(["ant", "ant", "ant", "ant"])), "m", "r", "s2")
    after = store.load(store.catalog.split("m", "r", "s"))
    assert after.labels == ("ant", "bird", "cat", "dog")
    assert not np.array_equal(after.columns.actual, before.columns.actual)  # the codes moved
    assert decoded(after, after.columns.actual) == decoded(before, before.columns.actual) == ACTUAL
    assert decoded(after, after.columns.predicted) == PREDICTED


def test_replacing_a_split_drops_labels_no_split_uses_any_more(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    ingest_table(root, predictions(actual=pa.array(["eel"] * 4)), "m", "r", "s2")
    ingest_table(root, predictions(), "m", "r", "s2", IngestOptions(replace=True))
    assert Catalog(root).model("m").labels == ("bird", "cat", "dog")


def test_fixed_labels_keep_their_order_and_accept_a_subset(root: Path) -> None:
    options = IngestOptions(labels=("dog", "cat", "bird", "eel"))
    ingest_table(root, predictions(), "m", "r", "s", options)
    ingest_table(root, predictions(actual=pa.array(["eel"] * 4)), "m", "r", "s2")
    model = Catalog(root).model("m")
    assert model.labels == ("dog", "cat", "bird", "eel") and model.labels_fixed
    data = load(root)
    assert data.labels == model.labels and decoded(data, data.columns.actual) == ACTUAL


def test_concurrent_ingests_of_different_splits_lose_nothing(root: Path) -> None:
    def ingest(i: int) -> None:
        table = predictions(actual=pa.array([f"label{i}", "cat", None, "dog"]))
        ingest_table(root, table, "m", f"run{i % 3}", f"split{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ingest, range(8)))
    catalog = Catalog(root)
    splits = [s for run in catalog.runs("m") for s in catalog.splits("m", run.name)]
    assert sorted(s.name for s in splits) == [f"split{i}" for i in range(8)]
    labels = {"cat", "dog"} | {f"label{i}" for i in range(8)}
    assert catalog.model("m").labels == tuple(sorted(labels))
    store = SplitStore(root)
    for split in splits:
        data = store.load(split)
        assert decoded(data, data.columns.actual)[0] == f"label{split.name[-1]}"
    assert os.listdir(root / "tmp") == []
    assert len(os.listdir(root / "splits")) == 8


def test_a_failing_commit_leaves_the_store_as_it_was(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_table(root, predictions(), "m", "r", "s")
    before = snapshot(root)

    def crash(self: CatalogWriter, *args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(CatalogWriter, "put_split", crash)
    with pytest.raises(RuntimeError):
        ingest_table(root, predictions(), "m", "r", "s2")
    with pytest.raises(RuntimeError):
        ingest_table(root, predictions(), "m", "r", "s", IngestOptions(replace=True))
    assert snapshot(root) == before


def test_scores_follow_the_model_when_a_later_split_adds_a_label(root: Path) -> None:
    ingest_table(root, predictions(), "m", "r", "s1")
    scores = [[0.1, 0.2, 0.7]] * 4
    table = predictions(scores=pa.array(scores))
    ingest_table(root, table, "m", "r", "s", IngestOptions(labels=("bird", "cat", "dog")))
    ingest_table(root, predictions(actual=pa.array(["ant"] * 4)), "m", "r", "s3")
    data = load(root)
    assert data.labels == ("ant", "bird", "cat", "dog")
    np.testing.assert_allclose(data.columns.scores, np.array([[0.0, 0.1, 0.2, 0.7]] * 4, np.float32))


def test_a_table_in_many_chunks_is_stored_as_one_zero_copy_batch(root: Path) -> None:
    table = pa.concat_tables([predictions().slice(0, 2), predictions().slice(2)])
    assert table.column("actual").num_chunks == 2
    ingest_table(root, table, "m", "r", "s")
    data = load(root)
    assert decoded(data, data.columns.actual) == ACTUAL
    assert data.metadata.column("region").num_chunks == 1
