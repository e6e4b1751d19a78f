"""GraphQL operations executed off the server's event loop.

Strawberry runs an operation as coroutines on the loop that received it, and
much of an operation is synchronous Python between its awaits: graphql-core
completing a metrics page's ~1,000 per-label fields, the per-label metric
arithmetic, building the result. On uvicorn's one loop every such stretch
delays everything queued behind it, so under load ``/healthz`` waited behind
whole requests (p99 1.4 s with 32 busy users on two cores).

``ExecutionLoops`` runs each operation on one of a few threads with event
loops of their own. The server's loop only reads requests, routes them and
writes answers, so ``/healthz`` (and the HTTP side of every request) waits at
most for the GIL, which a thread must hand over within one switch interval,
not for another request's Python to finish. The kernels still run in the
request thread pool (``Context.run``), awaited from the execution loop.

What is left for the server's loop to wait for is the GIL: a thread running
Python hands it over when another asks, after the switch interval, which
the server shortens from 5 ms to ``SWITCH_INTERVAL`` while it runs (the
loop asks for it a few times per request: after each socket read and
write). The kernels release the GIL, so the shorter interval costs them
nothing; the Python threads switch more often, which ``bench/load.py`` did
not show in its throughput. ``evalql serve`` also writes its log lines from
a thread of their own (``observability.log_off_the_loop``), so the loop
never blocks on a write either.

One execution thread: Python holds the GIL, so more threads would not run
operations' Python in parallel, only add contenders for the GIL that the
server's loop has to win; waits for kernels overlap anyway, as every
operation awaits its kernels on the loop.

Context variables (the access log's request record) travel with the
operation: ``run_coroutine_threadsafe`` schedules it with a copy of the
caller's context.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

EXECUTION_THREADS = 1
SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


class ExecutionLoops:
    """``threads`` daemon threads, each running an asyncio event loop, where
    ``run`` executes coroutines; started on first use, stopped by ``stop``."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._running = [0] * self.threads  # operations in flight, per loop
        self._lock = threading.Lock()

    def _start(self) -> None:
        with self._lock:
            if self._loops:
                return
            loops = []
            for number in range(self.threads):
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve, args=(loop,), name=f"evalql-graphql-{number}", daemon=True)
                thread.start()
                loops.append(loop)
            self._loops = loops
            # An app dropped without its lifespan's end (tests) stops its threads too.
            weakref.finalize(self, _stop, loops)

    async def run(self, operation: Coroutine[Any, Any, T]) -> T:
        """Await ``operation`` executed on the least busy execution loop."""
        if not self._loops:
            self._start()
        number = min(range(self.threads), key=self._running.__getitem__)
        self._running[number] += 1  # read and written on the server's loop only
        try:
            future: Future[T] = asyncio.run_coroutine_threadsafe(operation, self._loops[number])
            return await asyncio.wrap_future(future)
        finally:
            self._running[number] -= 1

    def stop(self) -> None:
        """Stop every loop; operations still running are abandoned (the
        server is shutting down)."""
        with self._lock:
            loops, self._loops = self._loops, []
        _stop(loops)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()


def _stop(loops: list[asyncio.AbstractEventLoop]) -> None:
    for loop in loops:
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # closed already
            pass
