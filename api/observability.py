"""What the server tells its operators: /metrics for Prometheus, and one
access-log line per GraphQL request.

Every app has its own ``CollectorRegistry`` (not prometheus-client's global
one), so several apps in one process, as in the tests, count apart.

/metrics (``Metrics``):

- ``evalql_graphql_requests_total{operation, status}`` and
  ``evalql_graphql_request_seconds{operation, status}``: requests to
  /graphql by operation name and HTTP status, refused ones included;
- ``evalql_engine_seconds_total``: time spent in the request threads
  (``Context.run``: loading splits, running kernels), measured by the
  executor the app hands every request's context;
- ``evalql_cache_bytes{kind}``: bytes of loaded splits held in memory;
- ``evalql_background_queue_length{queue}``: index builds waiting;
- ``evalql_kernel_groups_ready`` and ``evalql_kernel_groups_total``: how far
  the kernel compile process has got (only while serving with one).

The access log (logger ``evalql.access``) writes one ``key=value`` line per
/graphql request once its answer is sent, e.g.
``operation=Page status=200 duration_ms=12.4 engine_ms=9.8 cost=203 client=127.0.0.1``.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from logging.handlers import QueueHandler, QueueListener
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evalql.api.limits import MAX_OPERATION_NAMES
from evalql.api.refusals import route_path

if TYPE_CHECKING:
    from evalql.api.warmup import KernelCompiler
    from evalql.storage.datasets import SplitStore

T = TypeVar("T")

access_log = logging.getLogger("evalql.access")

# A GraphQL Name: anything else a client sends as operationName is neither
# logged nor made a metric label as written.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")

# Request latencies from a cached page (milliseconds) to a budget-bound scan.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class RequestRecord:
    """What one GraphQL request did, filled in as it runs."""

    operation: str | None = None
    cost: float | None = None
    # Appended from request threads (list.append is atomic), summed at the end.
    engine: list[float] = field(default_factory=list)


_current: ContextVar[RequestRecord | None] = ContextVar("evalql_request", default=None)


class _Deferred(QueueHandler):
    """Hands the record over as it is: the real handler formats it on the
    listener's thread (uvicorn's access formatter needs the record's args,
    which QueueHandler.prepare would drop)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def log_off_the_loop(names: tuple[str, ...] = ("", "uvicorn", "uvicorn.error",
                                               "uvicorn.access")) -> list[QueueListener]:
    """Move the handlers of these loggers (root first) to a thread of their
    own each: logging a line then only puts it on a queue, and the event loop
    never blocks writing it (every request logs one or two lines, and each
    write was a system call that hands the GIL to a busy thread and waits to
    get it back). For ``evalql serve``, once uvicorn has set its loggers up;
    returns the started listeners."""
    listeners = []
    for name in names:
        logger = logging.getLogger(name)
        handlers = [h for h in logger.handlers if not isinstance(h, QueueHandler)]
        if not handlers:
            continue
        lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        for handler in handlers:
            logger.removeHandler(handler)
        logger.addHandler(_Deferred(lines))
        listener = QueueListener(lines, *handlers, respect_handler_level=True)
        listener.start()
        listeners.append(listener)
    return listeners


class GraphQLLinesOnce(logging.Filter):
    """Drops uvicorn's access line of a /graphql request: ``evalql.access``
    writes a fuller one (operation, cost, engine time), and formatting and
    writing the second line took ~0.2 ms of a 3 ms request's CPU. Lines of
    other paths (/healthz, /metrics, the dashboard) stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path, HTTP version, status)
        path = args[2] if isinstance(args, tuple) and len(args) == 5 else None
        return not (isinstance(path, str) and path.split("?", 1)[0] == "/graphql")


def current_request() -> RequestRecord | None:
    """The record of the GraphQL request being answered in this context, if any."""
    return _current.get()


def operation_label(name: str | None) -> str:
    """``"Page"`` -> ``"Page"``; None -> ``"-"``; ``"a\\nb"`` -> ``"invalid"``."""
    if name is None:
        return "-"
    return name if _NAME.fullmatch(name) else "invalid"


class InstrumentedExecutor(ThreadPoolExecutor):
    """The request threads, timing each piece of work they run: the engine
    seconds of /metrics and of the request that submitted it.

    The request's record is read at submit time, on the event loop, where the
    request's context is current (``run_in_executor`` does not carry it over
    to the thread).
    """

    def __init__(self, max_workers: int, on_work: Callable[[float], None]) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="evalql-request")
        self._on_work = on_work

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        record = current_request()

        def timed() -> T:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                self._on_work(seconds)
                if record is not None:
                    record.engine.append(seconds)

        return super().submit(timed)


def _background_queues() -> dict[str, int]:
    """Index builds waiting in the background executor, by kind of index
    (api/split_cache.py owns the background work)."""
    from evalql.api import split_cache

    return split_cache.queue_lengths()


def _cached_bytes(store: SplitStore) -> dict[str, int]:
    """Bytes held by kind: the store's own split when it reports one
    (``cached_bytes_by_kind``, as the memory-budget work may add), else
    loaded splits as a whole (``SplitStore.cached_bytes``)."""
    by_kind = getattr(store, "cached_bytes_by_kind", None)
    if by_kind is not None:
        return dict(by_kind() if callable(by_kind) else by_kind)
    return {"splits": int(store.cached_bytes)}


class _StateCollector(Collector):
    """Gauges read when Prometheus scrapes: memory held, queues, kernels."""

    def __init__(self, store: SplitStore, compiler: KernelCompiler | None) -> None:
        self.store = store
        self.compiler = compiler

    def collect(self) -> Iterator[Metric]:
        cache = GaugeMetricFamily(
            "evalql_cache_bytes", "Bytes held in memory, by kind of cached data", labels=["kind"]
        )
        for kind, size in _cached_bytes(self.store).items():
            cache.add_metric([kind], size)
        yield cache
        queues = GaugeMetricFamily(
            "evalql_background_queue_length", "Background index builds waiting", labels=["queue"]
        )
        for name, length in _background_queues().items():
            queues.add_metric([name], length)
        yield queues
        if self.compiler is not None:
            state = self.compiler.state()
            yield GaugeMetricFamily("evalql_kernel_groups_ready",
                                    "Engine kernel groups compiled or loaded", state["ready"])
            yield GaugeMetricFamily("evalql_kernel_groups_total",
                                    "Engine kernel groups in all", state["total"])


class Metrics:
    """One app's Prometheus metrics and its /metrics endpoint."""

    def __init__(self, store: SplitStore, compiler: KernelCompiler | None = None) -> None:
        self.registry = CollectorRegistry()
        labels = ["operation", "status"]
        self.requests = Counter("evalql_graphql_requests", "GraphQL requests answered",
                                labels, registry=self.registry)
        self.latency = Histogram("evalql_graphql_request_seconds",
                                 "Time from a GraphQL request's arrival to its answer",
                                 labels, buckets=_BUCKETS, registry=self.registry)
        self.engine = Counter("evalql_engine_seconds",
                              "Seconds the request threads spent loading and computing",
                              registry=self.registry)
        self.registry.register(_StateCollector(store, compiler))
        self._operations: set[str] = set()

    def _label(self, name: str | None) -> str:
        """Clients choose operation names: past MAX_OPERATION_NAMES distinct
        ones, new names are counted as "other", so /metrics stays bounded."""
        label = operation_label(name)
        if label not in self._operations:
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return "other"
            self._operations.add(label)
        return label

    def observe(self, record: RequestRecord, status: int, seconds: float) -> None:
        label = self._label(record.operation)
        self.requests.labels(label, str(status)).inc()
        self.latency.labels(label, str(status)).observe(seconds)

    async def endpoint(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _access_line(record: RequestRecord, status: int, seconds: float, client: str) -> str:
    """``operation=Page status=200 duration_ms=12.4 engine_ms=9.8 cost=203 client=…``"""
    parts = [
        f"operation={operation_label(record.operation)}",
        f"status={status}",
        f"duration_ms={seconds * 1000:.1f}",
        f"engine_ms={sum(record.engine) * 1000:.1f}",
        f"cost={'-' if record.cost is None else f'{record.cost:g}'}",
        f"client={client}",
    ]
    return " ".join(parts)


class Observe:
    """ASGI middleware: a record per /graphql request, then its metrics and
    its access-log line. Outside the token and body checks, so refusals are
    counted and logged too."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope) != "/graphql":
            await self.app(scope, receive, send)
            return
        record = RequestRecord()
        token = _current.set(record)
        start = time.perf_counter()
        status = 500  # unless a response starts

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            _current.reset(token)
            seconds = time.perf_counter() - start
            self.metrics.observe(record, status, seconds)
            client = scope.get("client") or ("-", 0)
            access_log.info(_access_line(record, status, seconds, str(client[0])))
