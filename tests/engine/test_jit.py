"""engine.jit: where kernels are cached, and how row ranges are handed out."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from evalql.engine.jit import (
    STALE_KERNELS_SECONDS,
    chunk_bounds,
    kernel_cache_dir,
    map_ranges,
    numba_cache_dir,
    source_digest,
    sum_rows,
)


def test_a_writable_package_keeps_numbas_own_cache(tmp_path: Path) -> None:
    assert numba_cache_dir(tmp_path, {"HOME": "/home/u"}) is None


def test_a_read_only_package_caches_in_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, who may write anywhere: pretend the folder is read-only.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert numba_cache_dir(tmp_path, {"XDG_CACHE_HOME": "/x/cache"}) == "/x/cache/evalql"
    assert numba_cache_dir(tmp_path, {"HOME": "/home/u"}) == "/home/u/.cache/evalql"


def test_numba_cache_dir_set_by_the_user_always_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert numba_cache_dir(tmp_path, {"NUMBA_CACHE_DIR": "/mine", "HOME": "/h"}) is None


@pytest.mark.parametrize("n, chunks", [(0, 1), (5, 2), (7, 3), (2, 5), (100_003, 2)])
def test_chunk_bounds_cover_every_row_once_in_order(n: int, chunks: int) -> None:
    bounds = chunk_bounds(n, chunks)
    assert len(bounds) == chunks
    covered = [i for lo, hi in bounds for i in range(lo, hi)]
    assert covered == list(range(n))


def test_map_ranges_returns_results_in_range_order_and_sum_rows_adds_them() -> None:
    def ranged(values: np.ndarray, lo: int, hi: int) -> tuple[int, np.ndarray]:
        return lo, values[lo:hi].sum(keepdims=True)

    values = np.arange(10)
    parts = map_ranges(ranged, chunk_bounds(10, 3), values)
    assert [lo for lo, _ in parts] == [0, 4, 8]
    total = sum_rows(lambda v, lo, hi: v[lo:hi].sum(keepdims=True), 10, values)
    assert total.tolist() == [45]


def test_kernels_are_cached_per_engine_source_and_other_sources_kernels_go(
    tmp_path: Path,
) -> None:
    package = tmp_path / "engine"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("X = 16\n")
    (package / "sub" / "b.py").write_text("def f(): pass\n")
    first = source_digest(package)
    # an edit anywhere, even a constant another module inlines, is a new source
    (package / "a.py").write_text("X = 4\n")
    second = source_digest(package)
    assert first != second and source_digest(package) == second
    cache = tmp_path / "cache"
    stale = cache / f"kernels-{first}" / "engine_x"
    stale.mkdir(parents=True)
    (stale / "k.nbi").write_bytes(b"old")
    (cache / "unrelated").mkdir()
    # another version's folder stays while it may be in use...
    assert kernel_cache_dir(cache, second) == cache / f"kernels-{second}"
    assert (cache / f"kernels-{first}").exists()
    # ...and goes once untouched for a week
    later = time.time() + STALE_KERNELS_SECONDS + 60
    assert kernel_cache_dir(cache, second, now=later) == cache / f"kernels-{second}"
    assert not (cache / f"kernels-{first}").exists() and (cache / "unrelated").exists()
    # a base that does not exist yet is not an error
    assert kernel_cache_dir(tmp_path / "none", second) == tmp_path / "none" / f"kernels-{second}"
