"""Per-request context: the store, the thread pool, the request's loaders
and its budget of rows scanned.

Built anew for every request in ``get_context``, so that the request's views
(``views``, filled by ``View.get``), its DataLoader of confusion counts and
its rows budget live exactly as long as one request, as Strawberry's
DataLoader guide has it.

The rows budget: every row scan of the request's work (a kernel's pass
through ``engine.jit.map_rows``, a filter's mask) is counted as it starts;
past ``limits.MAX_ROWS_SCANNED`` the scan is refused with COST_LIMIT, so a
request the static cost let through (many filters, breakdowns of
breakdowns, curves of slices) stops instead of running for minutes. Answers
from an index read no rows and cost nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np
from strawberry.dataloader import DataLoader

from evalql.api import limits
from evalql.api.errors import CostLimit, translated
from evalql.api.split_cache import CountsKey, confusion_batch
from evalql.engine.jit import ROW_METER  # plumbing, not a metric: see _metered
from evalql.storage.datasets import SplitStore
from evalql.storage.errors import StoreError

T = TypeVar("T")


@dataclass
class Context:
    store: SplitStore
    executor: Executor
    views: dict[Hashable, Any] = field(default_factory=dict)
    # Multiclass confusion counts by (split, filter, threshold): the loads of
    # one tick are counted together, one index lookup or one scan per
    # (split, filter) whatever the thresholds (api.split_cache.confusion_batch).
    confusion: DataLoader[CountsKey, np.ndarray] = field(init=False)

    # Rows scanned so far (``scanned``).
    rows_scanned: int = field(default=0, init=False)
    _rows_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.confusion = DataLoader(load_fn=self._count)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (loading, kernels) off the event loop, its row
        scans counted against the request's budget."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, partial(self._metered, fn, *args))
        except StoreError as error:
            raise translated(error) from error

    def _metered(self, fn: Callable[..., T], *args: Any) -> T:
        # Why the context reaches into the engine: every kernel reports the
        # rows it is about to scan to whoever ROW_METER holds (engine.jit.
        # count_rows), and only the request knows its budget. Set here, on the
        # thread that runs the work, so the scans fn starts count against it.
        token = ROW_METER.set(self.scanned)
        try:
            return fn(*args)
        finally:
            ROW_METER.reset(token)

    def scanned(self, rows: int) -> None:
        """Count ``rows`` about to be scanned; COST_LIMIT past the budget
        (called from the request's threads: the lock keeps the sum exact)."""
        with self._rows_lock:
            self.rows_scanned += rows
            total = self.rows_scanned
        if total > limits.MAX_ROWS_SCANNED:
            raise CostLimit(
                f"the request scans more than {limits.MAX_ROWS_SCANNED:,} rows (each "
                "filter, breakdown and scan of a split reads all its rows): ask for fewer "
                "filters, slices or thresholds per request"
            )

    async def _count(self, keys: list[CountsKey]) -> Sequence[object]:
        counts = await self.run(confusion_batch, self.store, keys)
        return [translated(c) if isinstance(c, StoreError) else c for c in counts]
