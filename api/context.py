"""Per-request context: the store, the thread pool, and the request's loaders.

Built anew for every request in ``get_context``, so that the request's views
(``views``, filled by ``View.get``) and its DataLoader of confusion counts
live exactly as long as one request, as Strawberry's DataLoader guide has it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np
from strawberry.dataloader import DataLoader

from evalql.api.errors import translated
from evalql.api.split_cache import CountsKey, confusion_batch
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

    def __post_init__(self) -> None:
        self.confusion = DataLoader(load_fn=self._count)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (loading, kernels) off the event loop."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, partial(fn, *args))
        except StoreError as error:
            raise translated(error) from error

    async def _count(self, keys: list[CountsKey]) -> Sequence[object]:
        counts = await self.run(confusion_batch, self.store, keys)
        return [translated(c) if isinstance(c, StoreError) else c for c in counts]
