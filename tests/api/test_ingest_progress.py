"""evalql ingest's progress: a bar of rows read on a terminal, nothing
elsewhere; the rows read are told per
Parquet row group and the stored split is the one an ingest without progress
stores."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evalql.api.cli import Progress
from evalql.storage.datasets import SplitStore
from evalql.storage.ingest import ingest_file


def feed(progress: Progress, total: int) -> None:
    progress.stage("reading")
    for done in range(0, total + 1, total // 4):
        progress.rows("reading", done, total)
    progress.stage("validating")
    progress.clear()


def test_a_terminal_sees_a_bar_redrawn_in_place() -> None:
    out = io.StringIO()
    feed(Progress(tty=True, stream=out), 400)
    text = out.getvalue()
    assert "\n" not in text
    assert "reading [###############---------------]  50% 200 / 400 rows" in text
    assert "100% 400 / 400 rows" in text and text.endswith("\r\x1b[K")


def test_off_a_terminal_nothing_is_written_whatever_the_size() -> None:
    for total in (400, 4_000_000):
        out = io.StringIO()
        feed(Progress(tty=False, stream=out), total)
        assert out.getvalue() == "", total


def test_rows_are_told_per_row_group_and_the_split_is_the_same(tmp_path: Path) -> None:
    n = 1_000
    rng = np.random.default_rng(3)
    table = pa.table({
        "id": np.arange(n),
        "actual": rng.choice(["a", "b", "c"], n),
        "predicted": rng.choice(["a", "b", "c"], n),
        "confidence": rng.random(n).astype(np.float32),
    })
    path = tmp_path / "preds.parquet"
    pq.write_table(table, path, row_group_size=300)
    told: list[tuple[str, int, int]] = []
    ingest_file(tmp_path / "a", path, "m", "r", "s", rows=lambda *a: told.append(a))
    ingest_file(tmp_path / "b", path, "m", "r", "s")
    assert told == [("reading", done, n) for done in (0, 300, 600, 900, 1_000)]
    stored = [SplitStore(tmp_path / name) for name in ("a", "b")]
    loaded = [s.load(s.catalog.split("m", "r", "s")) for s in stored]
    for column in ("actual", "predicted", "confidence"):
        np.testing.assert_array_equal(getattr(loaded[0].columns, column),
                                      getattr(loaded[1].columns, column))
