"""``/healthz``: whether the server can read and write its store.

``{"status": "ok"}`` (HTTP 200) when the store's catalog reads and a small
file can be written in it; otherwise ``{"status": "degraded", "reason": ...}``
with HTTP 503, such as ``"cannot write the store: No space left on device"``.
A degraded server still answers queries (reads never write); what it cannot
do is ingest. Under ``evalql serve`` the body also says how far the kernels
have compiled (``"kernels": {"ready": 3, "total": 14}``).

The check touches the disk, so it runs in a thread at most once a second and
/healthz answers from its latest result: a load balancer polling many times
a second costs one check a second, and no answer waits for the disk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse

from evalql.storage.health import store_health

if TYPE_CHECKING:
    from evalql.api.warmup import KernelCompiler

CHECK_SECONDS = 1.0


class StoreHealth:
    """``store_health(root)`` in a thread, at most once a second.

    Only the first call waits for a check; later ones answer at once with the
    latest result and, when it is over a second old, start the next check in
    the background. So /healthz never waits on the disk or on a busy thread
    pool, and its answer is at most about a second behind the store.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._answer: tuple[bool, str | None] | None = None
        self._checked = -float("inf")
        self._running: asyncio.Task[None] | None = None

    async def state(self) -> tuple[bool, str | None]:
        """``(ok, reason)``; the reason names no path (/healthz is open to anyone)."""
        if self._running is not None and self._running.get_loop() is not asyncio.get_running_loop():
            self._running = None  # left behind by an event loop that is gone (tests)
        if time.monotonic() - self._checked >= CHECK_SECONDS and self._running is None:
            self._running = asyncio.create_task(self._check())
        if self._answer is None:
            await asyncio.shield(self._running)  # type: ignore[arg-type]
        assert self._answer is not None
        return self._answer

    async def _check(self) -> None:
        try:
            ok, reason = await asyncio.to_thread(store_health, self.root)
            self._answer = (ok, None if reason is None else self._without_path(reason))
            self._checked = time.monotonic()
        finally:
            self._running = None

    def _without_path(self, reason: str) -> str:
        """``"cannot write the store at /srv/s: No space left on device"`` ->
        ``"cannot write the store: No space left on device"``."""
        return reason.replace(f" at {self.root.resolve()}", "")


def endpoint(
    root: Path, compiler: KernelCompiler | None
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The /healthz route's function for the store at ``root``."""
    health = StoreHealth(root)

    async def healthz(_: Request) -> JSONResponse:
        ok, reason = await health.state()
        body: dict[str, object] = {"status": "ok"} if ok else {
            "status": "degraded", "reason": reason}
        if compiler is not None:
            body["kernels"] = compiler.state()
        return JSONResponse(body, status_code=200 if ok else 503)

    return healthz
