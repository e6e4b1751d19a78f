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

**Admission.** At most ``concurrency`` operations execute at once (one per
core); the others wait their turn on the server's loop, which costs
nothing. With 32 operations in flight the execution thread always had
Python to run and held the GIL nearly all the time, so the server's loop
waited for it at every turn; with a few, it is often idle while their
kernels run, and the loop gets the GIL at once. ``bench/load.py`` (32
users, back to back on the same 2-core machine): /healthz p50 20 -> 9 ms
and p99 190-220 -> 66-95 ms with a bound of 4; 5 ms and 59 ms with 2,
against 11 ms and 177 ms with 4 in the run beside it; throughput and
request p50 unchanged within the noise; a bound of 8 gave no gain. An
operation holds its place while it waits for its kernels and loads, so the
bound applies only once every kernel is compiled (``bounded``): during the
first start after an install, requests that wait for a kernel never keep
the others waiting.

Context variables (the access log's request record) travel with the
operation: ``run_coroutine_threadsafe`` schedules it with a copy of the
caller's context.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

EXECUTION_THREADS = 1
# Operations executing at once, per core (see Admission above).
CONCURRENCY_PER_CORE = 1
SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


class ExecutionLoops:
    """``threads`` daemon threads, each running an asyncio event loop, where
    ``run`` executes coroutines, at most ``concurrency`` at once while
    ``bounded()`` says so (None: no bound); started on first use, stopped
    by ``stop``."""

    def __init__(self, threads: int, concurrency: int | None = None,
                 bounded: Callable[[], bool] = lambda: True) -> None:
        self.threads = max(1, threads)
        self.concurrency = concurrency
        self.bounded = bounded
        # The server loop's semaphore, made on (and for) the loop that runs.
        self._places: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
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
        """Await ``operation`` executed on the least busy execution loop,
        once it has a place."""
        if self.concurrency is None or not self.bounded():
            return await self._execute(operation)
        async with self._semaphore():
            return await self._execute(operation)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._places is None or self._places[0] is not loop:
            assert self.concurrency is not None
            self._places = (loop, asyncio.Semaphore(self.concurrency))
        return self._places[1]

    async def _execute(self, operation: Coroutine[Any, Any, T]) -> T:
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
