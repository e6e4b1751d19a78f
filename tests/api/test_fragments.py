"""api.backends.fragments without a cluster: a multilabel split's fragments,
cut anywhere, add up to the engine's answer on the whole split, from their
LabelSetIndex (a view of every row and label) as from a scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from evalql.api.backends import fragments
from evalql.engine.multilabel.columns import filter_codes
from evalql.engine.multilabel.counts import multilabel_counts, package_counts
from evalql.engine.multilabel.curves import multilabel_threshold_counts
from evalql.storage.catalog import Catalog
from evalql.storage.datasets import MultilabelColumns, read_split
from evalql.storage.ingest import IngestOptions, ingest_table

TAGS = ("billing", "bug", "refund", "urgent")


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, MultilabelColumns]:
    root: Path = tmp_path_factory.mktemp("fragments")
    rng = np.random.default_rng(29)
    n = 500
    predicted = [rng.choice(TAGS, rng.integers(0, 4), replace=False).tolist() for _ in range(n)]
    table = pa.table({
        "id": [f"t{i}" for i in range(n)],
        "actual": [rng.choice(TAGS, rng.integers(0, 3), replace=False).tolist()
                   for _ in range(n)],
        "predicted": predicted,
        "confidence": [np.round(rng.random(len(p)), 2).tolist() for p in predicted],
    })
    ingest_table(root, table, "tags", "v1", "test",
                 IngestOptions(task="multilabel", labels=TAGS), source="tags")
    info = Catalog(root).split("tags", "v1", "test")
    columns = read_split(root, info, TAGS, "multilabel").columns
    assert isinstance(columns, MultilabelColumns)
    return root, info, columns


@pytest.mark.parametrize("cuts", [(0, 500), (0, 1, 250, 499, 500), (0, 97, 194, 291, 388, 500)])
@pytest.mark.parametrize("labels", [None, np.array([3, 1])])
def test_multilabel_fragments_add_up_to_the_whole_split(
    split: tuple[Path, object, MultilabelColumns], cuts: tuple[int, ...],
    labels: np.ndarray | None,
) -> None:
    root, info, columns = split
    loaded = [fragments.load_fragment(str(root), info, TAGS, lo, hi, "multilabel")
              for lo, hi in zip(cuts, cuts[1:], strict=False)]
    assert all(f.sets_index is not None for f in loaded)  # 4 labels: a dense matrix
    for threshold in (0.0, 0.5, 0.73):
        whole = multilabel_counts(columns, threshold, len(TAGS), labels=labels, matrix=True)
        parts = [fragments.label_set_counts_part(f, (), threshold, labels, True) for f in loaded]
        tp, support, predicted, rows, matrix = fragments.merge_label_set_counts(*parts)
        merged = package_counts(tp, support, predicted, filter_codes(labels, len(TAGS)), rows,
                                matrix)
        assert _same(merged, whole)
    thresholds = np.array([0.0, 0.3, 0.5, 0.9], dtype=np.float32)
    whole_curve = multilabel_threshold_counts(columns, thresholds, len(TAGS), labels=labels)
    merged_curve = fragments.merge_label_set_curves(
        *(fragments.label_set_curve_part(f, (), thresholds, labels) for f in loaded))
    for name in ("tp", "predicted", "support", "answered", "exact", "answered_exact"):
        np.testing.assert_array_equal(getattr(merged_curve, name), getattr(whole_curve, name))
    assert merged_curve.rows == whole_curve.rows
    unlabeled = sum(fragments.unlabeled_part(f, (), 0.5, labels) for f in loaded)
    empty = np.diff(columns.actual_offsets) == 0
    if labels is None:
        assert unlabeled == int(empty.sum())


def _same(a: object, b: object) -> bool:
    for name in ("tp", "support", "predicted", "labels", "matrix"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.summary == b.summary  # type: ignore[attr-defined]
    return True
