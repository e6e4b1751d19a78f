"""GraphQL operations execute off the server's event loop (api/execution.py)."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
from pathlib import Path

from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.execution import ExecutionLoops
from evalql.api.views.base import View

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def test_an_operation_runs_on_an_execution_thread_with_the_caller_s_context() -> None:
    loops = ExecutionLoops(1)

    async def operation() -> tuple[str, str]:
        await asyncio.sleep(0)
        return threading.current_thread().name, marker.get()

    async def caller() -> tuple[str, str]:
        marker.set("the request's")
        return await loops.run(operation())

    try:
        assert asyncio.run(caller()) == ("evalql-graphql-0", "the request's")
    finally:
        loops.stop()


def test_the_server_loop_answers_while_an_operation_holds_its_thread() -> None:
    # An operation stuck in synchronous work (as graphql-core completing a
    # large result is) does not stop the caller's loop from running others.
    loops = ExecutionLoops(1)
    release = threading.Event()

    async def stuck() -> str:
        release.wait(30)  # blocks the execution loop's thread, not the caller's
        return "done"

    async def server() -> list[str]:
        order = []
        running = asyncio.ensure_future(loops.run(stuck()))
        await asyncio.sleep(0)
        order.append("healthz answered")  # the caller's loop is free
        release.set()
        order.append(await running)
        return order

    try:
        assert asyncio.run(server()) == ["healthz answered", "done"]
    finally:
        loops.stop()


def test_the_app_resolves_fields_on_the_execution_thread(store: Path, monkeypatch) -> None:
    threads: list[str] = []
    real = View.get.__func__  # type: ignore[attr-defined]

    def noting(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)  # called by the metrics resolver
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(View, "get", classmethod(noting))
    with TestClient(create_app(store)) as client:
        body = client.post("/graphql", json={"query": '{ model(name: "m") { run(name: "v1") '
                                             '{ split(name: "test") { metrics { total } } } } }'})
    assert body.json() == {"data": {"model": {"run": {"split": {"metrics": {"total": 8}}}}}}
    assert threads and all(name.startswith("evalql-graphql-") for name in threads)


def _gathering(loops: ExecutionLoops, operations: int, meet: int) -> int:
    """Run ``operations`` that each wait until ``meet`` of them are in flight
    together (on the execution loop); the most ever in flight at once."""
    state = {"now": 0, "most": 0}
    arrived: list[asyncio.Event] = []

    async def operation() -> None:
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
        if not arrived:
            arrived.append(asyncio.Event())
        if state["now"] >= meet:
            arrived[0].set()
        await arrived[0].wait()
        await asyncio.sleep(0)
        state["now"] -= 1
        if state["now"] == 0:
            arrived.clear()

    async def server() -> None:
        await asyncio.gather(*(loops.run(operation()) for _ in range(operations)))

    try:
        asyncio.run(asyncio.wait_for(server(), 30))
    finally:
        loops.stop()
    return state["most"]


def test_at_most_concurrency_operations_execute_at_once() -> None:
    assert _gathering(ExecutionLoops(1, concurrency=2), operations=6, meet=2) == 2


def test_no_bound_while_bounded_says_no() -> None:
    # During a first start (kernels compiling) every operation goes in at once.
    loops = ExecutionLoops(1, concurrency=2, bounded=lambda: False)
    assert _gathering(loops, operations=6, meet=6) == 6


def test_serving_freezes_what_start_up_made_out_of_the_collector_s_sight(store: Path) -> None:
    # A full collection holds the GIL while it walks every tracked object;
    # frozen start-up objects (modules, the schema) are not walked again, so
    # /healthz's wait behind a collection is only what requests made.
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(store)) as client:
        assert gc.get_freeze_count() > 10_000
        assert client.get("/healthz").status_code == 200
