"""The demo generator: reproducible tables with the shape the demo promises."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from evalql.storage.demo import (
    LABELS,
    MODEL,
    PRIORITIES,
    PRIORITY_MODEL,
    RUN_META,
    TAGS,
    TAGS_MODEL,
    build_demo,
    demo_tables,
    priority_tables,
    tag_tables,
)

Tables = dict[tuple[str, str], pa.Table]


@pytest.fixture(scope="module")
def tables() -> Tables:
    return {(run, split): table for _, run, split, table in demo_tables()}


def codes(column: pa.ChunkedArray) -> np.ndarray:
    """Label codes in LABELS order, -1 for null."""
    index = pc.index_in(column, value_set=pa.array(LABELS))
    return pc.fill_null(index, -1).to_numpy()


def correct(table: pa.Table) -> np.ndarray:
    """Rows with a prediction equal to the actual label (the engine's `correct`)."""
    return pc.fill_null(pc.equal(table["actual"], table["predicted"]), False).to_numpy()


def accuracy(table: pa.Table) -> float:
    return float(correct(table).mean())


def test_generation_is_deterministic() -> None:
    first, second = demo_tables(), demo_tables()
    assert [key[:3] for key in first] == [key[:3] for key in second]
    assert all(a[3].equals(b[3]) for a, b in zip(first, second, strict=True))


def test_another_seed_gives_other_data() -> None:
    assert not demo_tables(seed=8)[0][3].equals(demo_tables()[0][3])


def test_every_run_has_both_splits_of_the_one_model() -> None:
    keys = [(model, run, split) for model, run, split, _ in demo_tables()]
    assert sorted(keys) == sorted(
        (MODEL, run, split) for run in ("v1", "v2") for split in ("training", "validation")
    )


def test_row_counts_are_30000_for_training_and_10000_for_validation(tables: Tables) -> None:
    for (_, split), table in tables.items():
        assert table.num_rows == {"training": 30_000, "validation": 10_000}[split]


def test_labels_are_sorted_and_skewed_with_resolved_the_most_common(tables: Tables) -> None:
    assert list(LABELS) == sorted(LABELS) and len(LABELS) == 8
    actual = codes(tables["v1", "training"]["actual"])
    shares = np.bincount(actual[actual >= 0], minlength=len(LABELS)) / len(actual)
    assert shares.argmax() == LABELS.index("Resolved") and 0.25 < shares.max() < 0.35
    assert 0.01 < shares.min() < 0.04


def test_about_3_percent_unlabeled_and_2_percent_abstained(tables: Tables) -> None:
    for table in tables.values():
        assert 0.02 < table["actual"].null_count / table.num_rows < 0.04
        assert 0.015 < table["predicted"].null_count / table.num_rows < 0.025


def test_runs_of_a_split_share_ids_labels_and_metadata(tables: Tables) -> None:
    for split in ("training", "validation"):
        v1, v2 = tables["v1", split], tables["v2", split]
        for name in ("id", "actual", "channel", "language", "message_length", "created_at"):
            assert v1[name].equals(v2[name]), name
    training, validation = tables["v1", "training"]["id"], tables["v1", "validation"]["id"]
    assert training[0].as_py() == "conv-000000"
    assert not set(training.to_pylist()) & set(validation.to_pylist())


def test_ids_are_unique_within_a_split(tables: Tables) -> None:
    for table in tables.values():
        assert pc.count_distinct(table["id"]).as_py() == table.num_rows


def test_column_types_match_the_demo_contract(tables: Tables) -> None:
    schema = tables["v2", "validation"].schema
    assert schema.field("confidence").type == pa.float32()
    assert schema.field("scores").type == pa.list_(pa.float32())
    assert schema.field("message_length").type == pa.int64()
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert "scores" not in tables["v1", "validation"].schema.names


def test_created_at_spans_the_90_days_before_2026_11_01(tables: Tables) -> None:
    created = tables["v1", "training"]["created_at"]
    low, high = pc.min(created).value, pc.max(created).value
    end = pa.scalar(np.datetime64("2026-11-01T00:00:00", "us")).value
    assert end - 90 * 86_400 * 10**6 <= low and high <= end
    assert high - low > 89 * 86_400 * 10**6


def test_message_length_stays_within_20_and_4000(tables: Tables) -> None:
    length = tables["v1", "training"]["message_length"]
    assert pc.min(length).as_py() >= 20 and pc.max(length).as_py() <= 4000


def test_confidences_lie_within_zero_and_one(tables: Tables) -> None:
    for table in tables.values():
        confidence = table["confidence"].to_numpy()
        assert table["confidence"].null_count == 0
        assert ((confidence >= 0) & (confidence <= 1)).all()


def test_v2_accuracy_beats_v1_on_validation(tables: Tables) -> None:
    v1, v2 = accuracy(tables["v1", "validation"]), accuracy(tables["v2", "validation"])
    assert v2 > v1 + 0.03
    assert v1 == pytest.approx(0.78, abs=0.02) and v2 == pytest.approx(0.85, abs=0.02)


def test_training_beats_validation_in_every_run(tables: Tables) -> None:
    for run in ("v1", "v2"):
        gap = accuracy(tables[run, "training"]) - accuracy(tables[run, "validation"])
        assert 0.03 < gap < 0.07, run


def test_resolved_and_partially_resolved_are_the_most_confused_pair(tables: Tables) -> None:
    for key, table in tables.items():
        actual, predicted = codes(table["actual"]), codes(table["predicted"])
        both = (actual >= 0) & (predicted >= 0)
        matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
        np.add.at(matrix, (actual[both], predicted[both]), 1)
        pairs = matrix + matrix.T
        np.fill_diagonal(pairs, 0)
        top = np.unravel_index(pairs.argmax(), pairs.shape)
        assert {LABELS[i] for i in top} == {"Resolved", "Partially Resolved"}, key


def test_social_and_portuguese_rows_are_less_accurate(tables: Tables) -> None:
    table = tables["v1", "validation"]
    right = correct(table)
    for column, worse in (("channel", "social"), ("language", "pt")):
        values = table[column].to_numpy()
        assert right[values == worse].mean() < right[values != worse].mean() - 0.05


def test_raising_the_threshold_raises_selective_accuracy(tables: Tables) -> None:
    for key, table in tables.items():
        right = correct(table)
        answered = table["predicted"].is_valid().to_numpy()
        confidence = table["confidence"].to_numpy()
        selective = [right[answered & (confidence >= t)].mean() for t in (0.0, 0.5, 0.7, 0.9)]
        assert selective == sorted(selective), key


def test_scores_rows_argmax_equals_predicted_where_predicted_is_not_null(
    tables: Tables,
) -> None:
    for split in ("training", "validation"):
        table = tables["v2", split]
        scores = table["scores"].combine_chunks().flatten().to_numpy().reshape(-1, len(LABELS))
        predicted = codes(table["predicted"])
        answered = predicted >= 0
        assert (scores.argmax(axis=1)[answered] == predicted[answered]).all()
        assert (scores.max(axis=1) == table["confidence"].to_numpy()).all()
        assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
        assert ((scores >= 0) & (scores <= 1)).all()


@dataclass(frozen=True)
class FakeOptions:
    """IngestOptions as build_demo fills it, without importing the real one."""

    labels: tuple[str, ...] = ()
    task: str = "multiclass"
    replace: bool = False
    objects: str | None = None
    run_meta: dict[str, object] = field(default_factory=dict)


def test_build_demo_ingests_each_table_with_fixed_labels_and_replace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple] = []

    def ingest_table(
        root: Path, table: pa.Table, model: str, run: str, split: str, options: object, source: str
    ) -> tuple[str, str, str]:
        calls.append((root, model, run, split, table.num_rows, options, source))
        return (model, run, split)

    fake = SimpleNamespace(IngestOptions=FakeOptions, ingest_table=ingest_table)
    monkeypatch.setitem(sys.modules, "evalql.storage.ingest", fake)
    summaries = build_demo(tmp_path)
    every_table = [*demo_tables(), *tag_tables(), *priority_tables()]
    assert summaries == [(model, run, split) for model, run, split, _ in every_table]
    support = [*demo_tables(), *tag_tables()]
    assert {(model, run) for model, run, _, _ in support} <= set(RUN_META)
    for root, model, run, split, _, options, source in calls:
        assert root == tmp_path and source == f"demo:{model}/{run}/{split}"
        assert options.replace is True
        assert options.run_meta == RUN_META.get((model, run), {})
        if model == MODEL:
            assert options.labels == LABELS and options.task == "multiclass"
        elif model == PRIORITY_MODEL:
            assert options.labels == PRIORITIES and options.task == "multiclass"
        else:
            assert options.labels == TAGS and options.task == "multilabel"


def test_build_demo_ingests_every_table(tmp_path: Path) -> None:
    pytest.importorskip("evalql.storage.ingest")
    messages: list[str] = []
    summaries = build_demo(tmp_path, progress=messages.append)
    assert [(s.model, s.run, s.split, s.rows) for s in summaries] == [
        (model, run, split, table.num_rows)
        for model, run, split, table in [*demo_tables(), *tag_tables(), *priority_tables()]
    ]
    assert len(messages) == len(summaries)
    # Running it again replaces the splits rather than failing on them.
    assert all(s.replaced for s in build_demo(tmp_path))


# --- the multilabel model, support-tags ---------------------------------------


@pytest.fixture(scope="module")
def tagged() -> Tables:
    return {(run, split): table for _, run, split, table in tag_tables()}


def tag_matrix(column: pa.ChunkedArray) -> np.ndarray:
    """bool (N, len(TAGS)) indicator matrix of a list<string> column; null = no tags."""
    rows = column.to_pylist()
    matrix = np.zeros((len(rows), len(TAGS)), dtype=bool)
    for i, tags in enumerate(rows):
        for tag in tags or []:
            matrix[i, TAGS.index(tag)] = True
    return matrix


def kept_matrix(table: pa.Table, threshold: float) -> np.ndarray:
    matrix = np.zeros((table.num_rows, len(TAGS)), dtype=bool)
    rows = zip(table["predicted"].to_pylist(), table["confidence"].to_pylist(), strict=True)
    for i, (tags, confidences) in enumerate(rows):
        for tag, confidence in zip(tags, confidences, strict=True):
            matrix[i, TAGS.index(tag)] = confidence >= np.float32(threshold)
    return matrix


def micro_f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = (y & p).sum()
    return float(2 * tp / (y.sum() + p.sum()))


def test_tag_generation_is_deterministic() -> None:
    first, second = tag_tables(), tag_tables()
    assert all(a[3].equals(b[3]) for a, b in zip(first, second, strict=True))
    assert not tag_tables(seed=8)[0][3].equals(first[0][3])


def test_the_tag_model_has_two_runs_of_two_smaller_splits(tagged: Tables) -> None:
    keys = [(model, run, split) for model, run, split, _ in tag_tables()]
    assert sorted(keys) == sorted(
        (TAGS_MODEL, run, split) for run in ("v1", "v2") for split in ("training", "validation")
    )
    for (_, split), table in tagged.items():
        assert table.num_rows == {"training": 20_000, "validation": 5_000}[split]


def test_tags_are_sorted_and_include_the_support_topics() -> None:
    assert list(TAGS) == sorted(TAGS) and len(TAGS) == 8
    assert {"billing", "refund", "cancellation", "bug", "urgent"} <= set(TAGS)


def test_tags_are_on_the_same_conversations_as_the_intents(
    tables: Tables, tagged: Tables
) -> None:
    for split in ("training", "validation"):
        intents, tags = tables["v1", split], tagged["v1", split]
        for name in ("id", "channel", "language", "message_length", "created_at", "text"):
            assert intents[name].slice(0, tags.num_rows).equals(tags[name]), name
        # An unlabeled conversation has no intent and no tags: a null list.
        assert intents["actual"].slice(0, tags.num_rows).is_null().equals(tags["actual"].is_null())


def test_column_types_are_lists_a_user_would_upload(tagged: Tables) -> None:
    schema = tagged["v2", "validation"].schema
    assert schema.field("actual").type == pa.list_(pa.string())
    assert schema.field("predicted").type == pa.list_(pa.string())
    assert schema.field("confidence").type == pa.list_(pa.float32())


def test_rows_have_up_to_three_distinct_tags_and_about_10_percent_none(tagged: Tables) -> None:
    for key, table in tagged.items():
        rows = [tags or [] for tags in table["actual"].to_pylist()]
        assert all(len(set(tags)) == len(tags) <= 3 for tags in rows), key
        assert {tag for tags in rows for tag in tags} == set(TAGS), key
        none = sum(1 for tags in rows if not tags) / len(rows)
        assert 0.08 < none < 0.12, key
        assert table["actual"].null_count > 0  # the unlabeled conversations
        assert 1.1 < np.mean([len(tags) for tags in rows]) < 1.6, key


def test_predictions_are_aligned_distinct_and_most_confident_first(tagged: Tables) -> None:
    for key, table in tagged.items():
        rows = zip(table["predicted"].to_pylist(), table["confidence"].to_pylist(), strict=True)
        empty = 0
        for tags, confidences in rows:
            assert len(tags) == len(confidences) == len(set(tags)), key
            assert confidences == sorted(confidences, reverse=True), key
            assert all(0.3 <= c <= 1.0 for c in confidences), key
            empty += not tags
        assert 0.05 < empty / table.num_rows < 0.3, key


def test_v2_tags_better_than_v1_at_every_threshold(tagged: Tables) -> None:
    for split in ("training", "validation"):
        y = tag_matrix(tagged["v1", split]["actual"])
        for threshold in (0.3, 0.5, 0.7):
            v1 = kept_matrix(tagged["v1", split], threshold)
            v2 = kept_matrix(tagged["v2", split], threshold)
            assert micro_f1(y, v2) > micro_f1(y, v1) + 0.05, (split, threshold)
            assert (y == v2).all(axis=1).mean() > (y == v1).all(axis=1).mean(), (split, threshold)


def test_v2_confidences_look_calibrated(tagged: Tables) -> None:
    table = tagged["v2", "training"]
    actual = [set(tags or []) for tags in table["actual"].to_pylist()]
    hits, confidences = [], []
    rows = zip(actual, table["predicted"].to_pylist(), table["confidence"].to_pylist(), strict=True)
    for tags, predicted, confidence in rows:
        hits += [tag in tags for tag in predicted]
        confidences += confidence
    hits_array, confidence_array = np.array(hits), np.array(confidences)
    for low in (0.3, 0.5, 0.7):
        in_bin = (confidence_array >= low) & (confidence_array < low + 0.2)
        assert abs(hits_array[in_bin].mean() - (low + 0.1)) < 0.1, low


# --- the small model of the insights tour, ticket-priority --------------------


def test_ticket_priority_is_deterministic_with_a_memorised_train_and_a_weaker_test() -> None:
    first, second = priority_tables(), priority_tables()
    assert all(a[3].equals(b[3]) for a, b in zip(first, second, strict=True))
    tables = {split: table for model, run, split, table in first
              if (model, run) == (PRIORITY_MODEL, "v1")}
    assert {split: t.num_rows for split, t in tables.items()} == {"train": 3000, "test": 1200}
    for split, t in tables.items():
        labeled = pc.is_valid(t["actual"])
        right = pc.fill_null(pc.equal(t["actual"], t["predicted"]), False)
        accuracy = pc.sum(right).as_py() / pc.sum(labeled).as_py()
        assert (accuracy > 0.98) if split == "train" else (0.75 < accuracy < 0.9), split
        assert 0.06 < t["actual"].null_count / t.num_rows < 0.12
        assert set(pc.unique(t["predicted"]).to_pylist()) <= set(PRIORITIES)
        assert pc.min(t["confidence"]).as_py() >= 0.9
