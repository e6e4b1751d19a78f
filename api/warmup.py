"""Kernels compile in a process of their own while the server answers.

With an empty Numba cache (every fresh install) compiling all kernels takes
about a minute, and compiling holds the GIL: done in the server it would stall
every request, catalog queries and ``/healthz`` included. So the server starts
``python -m evalql.engine.warm``, which fills the on-disk cache group by
group, and serves at once. A request that calls a kernel this process has not
loaded yet waits for that kernel's group only (and asks the compile process
to do it next), then loads it from the cache in milliseconds.

The wait sits where Numba compiles a kernel for a call from Python
(``Dispatcher._compile_for_args``): a kernel already loaded never passes
there, so serving pays nothing once warm.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from evalql.engine.warm import GROUPS, group_of

log = logging.getLogger("evalql")

# Threads doing work no request waits for name themselves with this prefix.
BACKGROUND_THREADS = "evalql-background"

_active: KernelCompiler | None = None
_original_compile: Callable[..., Any] | None = None


def _compile_when_ready(dispatcher: Any, *args: Any, **kws: Any) -> Any:
    compiler = _active
    group = group_of(dispatcher.py_func.__module__)
    if compiler is not None and group is not None:
        compiler.wait(group)
    assert _original_compile is not None
    return _original_compile(dispatcher, *args, **kws)


def _install_gate() -> None:
    global _original_compile
    # Imported here: `evalql serve` launches the compile process before it
    # imports Numba, so that the two overlap.
    from numba.core.registry import CPUDispatcher

    if _original_compile is None:
        _original_compile = CPUDispatcher._compile_for_args
        CPUDispatcher._compile_for_args = _compile_when_ready


class KernelCompiler:
    """The compile process, what it has made ready, and the requests waiting."""

    def __init__(self) -> None:
        self._ready = {name: threading.Event() for name in GROUPS}
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._started = 0.0
        self._compiled = False  # any group took long enough to be compiling

    def launch(self) -> None:
        """Start the compile process (once); it works while the server imports."""
        if self._process is not None:
            return
        self._started = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "evalql.engine.warm"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env=os.environ.copy(),
        )
        threading.Thread(target=self._follow, args=(self._process.stdout,),
                         name="evalql-kernels", daemon=True).start()

    def start(self) -> None:
        """Launch the compile process if needed, and make kernels wait for it."""
        global _active
        self.launch()
        _install_gate()
        _active = self

    def stop(self) -> None:
        """End the compile process (if still running) and stop gating."""
        global _active
        if _active is self:
            _active = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=5)
        self._release_all()

    def wait(self, group: str) -> None:
        """Block until ``group``'s kernels are in the cache.

        A request asks the compile process for the group first; background
        work (an index build, on a thread named ``evalql-background…``)
        waits its turn, so it never delays a kernel a request needs.
        """
        event = self._ready.get(group)
        if event is None or event.is_set():
            return
        if not threading.current_thread().name.startswith(BACKGROUND_THREADS):
            self._ask(group)
        event.wait()

    def all_ready(self) -> bool:
        """Whether every kernel group is compiled or loaded."""
        return all(event.is_set() for event in self._ready.values())

    def state(self) -> dict[str, int]:
        """``{"ready": groups ready, "total": groups}``, for /healthz."""
        ready = sum(event.is_set() for event in self._ready.values())
        return {"ready": ready, "total": len(self._ready)}

    def _ask(self, group: str) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            with self._lock:
                process.stdin.write(group + "\n")
                process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # it has ended; _follow releases every waiter

    def _follow(self, stdout: IO[str] | None) -> None:
        assert stdout is not None
        for line in stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "ready":
                name, seconds, compiled = (rest.split() + ["0", "0"])[:3]
                self._mark_ready(name, float(seconds), int(compiled))
        self._finish()

    def _mark_ready(self, name: str, seconds: float, compiled: int) -> None:
        if name not in self._ready:
            return
        self._ready[name].set()
        # Loaded from a warm cache, a group is ready in milliseconds; only the
        # first start after an install (or an upgrade) compiles, and says so.
        if compiled and not self._compiled:
            self._compiled = True
            log.info("compiling engine kernels (first start after install); "
                     "queries that need one wait for it only")
        if self._compiled:
            state = self.state()
            log.info("engine kernels: %d/%d ready (%s, %.1f s)",
                     state["ready"], state["total"], name, seconds)

    def _finish(self) -> None:
        process = self._process
        code = process.wait() if process is not None else 0
        elapsed = time.perf_counter() - self._started
        missing = [name for name, event in self._ready.items() if not event.is_set()]
        if missing and _active is self:
            log.warning("the kernel compile process ended early (exit %s); %s will "
                        "compile on first use", code, ", ".join(missing))
        elif not missing:
            verb = "compiled" if self._compiled else "loaded from cache"
            log.info("all engine kernels %s in %.1f s", verb, elapsed)
        self._release_all()

    def _release_all(self) -> None:
        # With no compile process, a waiting request compiles in-process:
        # slower, never stuck.
        for event in self._ready.values():
            event.set()
