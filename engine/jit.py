"""The one place that decides how kernels are compiled and run in parallel.

Every kernel is compiled with ``nogil`` (so threads run kernels side by side)
and ``cache`` (so a restart loads machine code from disk instead of
recompiling). Kernels are serial loops over a range of rows; ``map_rows``
runs one per core on threads and the caller merges the partial results. A
``parallel=True`` kernel would do the same with Numba's prange, but costs 10 to
25 times as long to compile (3.9 s against 0.15 s for the confusion counts),
and compile time is what a fresh install waits for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import numba


def numba_cache_dir(package: Path, environ: Mapping[str, str]) -> str | None:
    """Where compiled kernels are cached, when Numba's default will not do.

    Numba caches next to the source, in ``__pycache__``. A system-wide
    install or a read-only container image cannot write there, so the cache
    then goes to ``$XDG_CACHE_HOME/evalql``, else ``~/.cache/evalql``. A set
    ``NUMBA_CACHE_DIR`` always wins (None: leave Numba's choice alone).
    """
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    pycache = package / "__pycache__"
    if os.access(pycache if pycache.exists() else package, os.W_OK):
        return None
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")).expanduser()
                                                  / ".cache")
    return str(Path(base) / "evalql")


def source_digest(package: Path) -> str:
    """A digest of every Python file under ``package``: it changes whenever
    the engine's source does."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# Folders of other sources' kernels untouched this long are removed: not at
# once, since two versions may share a cache folder (a rolling restart, Dask
# workers, a second checkout), and removing a folder while Numba saves into
# it would fail that save.
STALE_KERNELS_SECONDS = 7 * 24 * 3600


def kernel_cache_dir(base: Path, digest: str, now: float | None = None) -> Path:
    """The folder of this source's compiled kernels under ``base``; folders
    of other sources' kernels untouched for ``STALE_KERNELS_SECONDS`` are
    removed (best effort).

    Numba checks a cached kernel against its own file's time stamp only,
    but a kernel also holds the inlined helpers and the constants of other
    modules: after an edit there, it would load the old machine code, with
    old answers. A folder per engine source leaves nothing to go stale.
    """
    oldest = (time.time() if now is None else now) - STALE_KERNELS_SECONDS
    with contextlib.suppress(OSError):
        for old in base.glob("kernels-*"):
            if old.name != f"kernels-{digest}" and old.stat().st_mtime < oldest:
                shutil.rmtree(old, ignore_errors=True)
    return base / f"kernels-{digest}"


# Before any kernel is decorated: Numba picks a kernel's cache folder then.
_PACKAGE = Path(__file__).parent
_BASE = (os.environ.get("NUMBA_CACHE_DIR") or numba_cache_dir(_PACKAGE, os.environ)
         or str(_PACKAGE / "__pycache__"))
numba.config.CACHE_DIR = str(kernel_cache_dir(Path(_BASE), source_digest(_PACKAGE)))

JIT_FLAGS = {"nogil": True, "cache": True}

jit = numba.njit(**JIT_FLAGS)
# For small helpers of a kernel's inner loop: inlined in Numba's IR, so a
# dozen array arguments cost nothing per call (measured 1.4x on a row scan).
inline_jit = numba.njit(inline="always", **JIT_FLAGS)

# Below this many rows one thread scans: handing out chunks would cost more.
MIN_PARALLEL_ROWS = 1 << 16

CORES = os.cpu_count() or 1
_POOL = ThreadPoolExecutor(max_workers=CORES, thread_name_prefix="evalql-scan")

T = TypeVar("T")


def n_chunks(n_rows: int) -> int:
    """How many row ranges a scan of ``n_rows`` is cut into: one per core."""
    return 1 if n_rows < MIN_PARALLEL_ROWS else CORES


def chunk_bounds(n: int, chunks: int) -> list[tuple[int, int]]:
    """``chunks`` contiguous ranges covering ``0..n``, as even as can be.

    Example: ``chunk_bounds(5, 2)`` gives ``[(0, 3), (3, 5)]``.
    """
    step = -(-n // chunks) if chunks else n
    return [(min(n, i * step), min(n, (i + 1) * step)) for i in range(chunks)]


def map_ranges(kernel: Callable[..., T], bounds: list[tuple[int, int]], *args: Any) -> list[T]:
    """``kernel(*args, lo, hi)`` for each range of ``bounds``, side by side.

    The first range runs in the calling thread, the others on the scan pool;
    kernels release the GIL, so they run in parallel. Results come in range
    order, so merging them in order keeps row order.
    """
    rest = [_POOL.submit(kernel, *args, lo, hi) for lo, hi in bounds[1:]]
    first = kernel(*args, *bounds[0])
    return [first, *(future.result() for future in rest)]


# Who is told of the rows each scan reads: the API sets one per request (its
# rows-scanned budget, which may refuse a scan by raising); the engine keeps
# no budget of its own. Unset (background index builds, scripts): nobody.
ROW_METER: ContextVar[Callable[[int], None] | None] = ContextVar("evalql_row_meter", default=None)


def count_rows(n: int) -> None:
    """Tell the current meter, if any, that ``n`` rows are about to be read;
    it may raise to refuse the scan before it runs."""
    meter = ROW_METER.get()
    if meter is not None:
        meter(n)


def map_rows(kernel: Callable[..., T], n: int, *args: Any) -> list[T]:
    """``map_ranges`` over ranges covering rows ``0..n``, one per core.

    Every row scan goes through here, so here its rows are counted (``count_rows``).
    """
    count_rows(n)
    return map_ranges(kernel, chunk_bounds(n, n_chunks(n)), *args)


def sum_rows(kernel: Callable[..., Any], n: int, *args: Any) -> Any:
    """``map_rows``, with the partial counts summed (each of a tuple's arrays)."""
    parts = map_rows(kernel, n, *args)
    if isinstance(parts[0], tuple):
        return tuple(sum(p[i] for p in parts) for i in range(len(parts[0])))
    return sum(parts[1:], parts[0])
