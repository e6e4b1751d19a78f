"""Per-request context: the store, the thread pool, and the request's views.

Built anew for every request in ``get_context`` so that caches of views (and
their confusion counts) live exactly as long as one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from evalql.api.errors import translated
from evalql.storage.datasets import SplitStore
from evalql.storage.errors import StoreError

if TYPE_CHECKING:
    from evalql.api.views import View

T = TypeVar("T")


@dataclass
class Context:
    store: SplitStore
    executor: Executor
    views: dict[tuple[Any, ...], View] = field(default_factory=dict)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (loading, kernels) off the event loop."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, partial(fn, *args))
        except StoreError as error:
            raise translated(error) from error
