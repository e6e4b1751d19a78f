"""The Starlette application: GraphQL (with GraphiQL) at /graphql, /healthz,
/metrics, and the middleware that guards them (hosts, CORS, tokens, bodies)."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from graphql import ExecutionResult
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from evalql.api import dashboard, health, ide
from evalql.api.auth import TokenCache, TokenGate
from evalql.api.bodies import PREFLIGHT_HEADERS, BodyGuard, ReadsBodies
from evalql.api.context import Context
from evalql.api.execution import (
    CONCURRENCY_PER_CORE,
    EXECUTION_THREADS,
    SWITCH_INTERVAL,
    ExecutionLoops,
)
from evalql.api.observability import InstrumentedExecutor, Metrics, Observe
from evalql.api.schema import schema
from evalql.api.settings import IN_PROCESS, ServeSettings
from evalql.api.warmup import KernelCompiler
from evalql.storage.datasets import SplitStore
from evalql.storage.tokens import TokenStore


class EvalqlGraphQL(ReadsBodies, GraphQL):
    """Strawberry's ASGI view with a fresh per-request Context, an offline
    GraphiQL, and bodies read as api/bodies.py says."""

    def __init__(
        self, store: SplitStore, executor: ThreadPoolExecutor, loops: ExecutionLoops
    ) -> None:
        # Uploads follow the GraphQL multipart request spec; BodyGuard has
        # already refused one without a preflight-only header (CSRF).
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.store = store
        self.executor = executor
        self.loops = loops

    async def execute_single(self, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        # Off the server's loop (api/execution.py), so no operation's
        # Python delays /healthz or the HTTP side of other requests.
        try:
            return await self.loops.run(super().execute_single(**kwargs))
        finally:
            # A request's views and its DataLoader's futures are in cycles
            # with its context, which kept their counts (a breakdown's 51
            # slice matrices, 4 MB) until Python's next full collection, rare
            # under gc.freeze. Emptied, they go at once.
            context = kwargs.get("context")
            if isinstance(context, Context):
                context.views.clear()
                context.confusion.clear_all()

    def encode_json(self, data: object) -> bytes:
        # A 1000-label matrix is a million integers; orjson writes it ~10x
        # faster than the standard library.
        return orjson.dumps(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(store=self.store, executor=self.executor)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page loads React and GraphiQL from a CDN; ours serves them.
        return ide.graphiql_page(request)


def create_app(
    data_dir: Path,
    workers: int | None = None,
    compiler: KernelCompiler | None = None,
    settings: ServeSettings | None = None,
) -> Starlette:
    """The evalql ASGI app serving the store at ``data_dir``.

    With a ``compiler`` (``api.warmup``), as ``evalql serve`` passes, kernels
    compile in a process of their own and requests wait only for theirs;
    without one a kernel compiles in-process on first use, which suits tests
    and scripts.

    ``settings`` are what ``evalql serve`` was told (hosts, origins, writes,
    body limits); without them the app checks no Host header (see
    ``settings.IN_PROCESS``) and keeps every other default.
    """
    settings = settings or IN_PROCESS
    store = SplitStore(Path(data_dir), settings.memory)
    metrics = Metrics(store, compiler)
    # More threads than cores: a request waiting for a kernel to compile, or
    # for a split to load, holds a thread without using a core, and must not
    # keep a request whose kernels are ready from running.
    executor = InstrumentedExecutor(workers or 4 * (os.cpu_count() or 1), metrics.engine.inc)
    loops = ExecutionLoops(
        EXECUTION_THREADS, CONCURRENCY_PER_CORE * (os.cpu_count() or 1),
        bounded=lambda: compiler is None or compiler.all_ready(),
    )
    graphql = EvalqlGraphQL(store, executor, loops)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if compiler is not None:
            compiler.start()
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)  # see api/execution.py
        # Everything alive at start (modules, the schema, vendored pages) is
        # moved out of the collector's sight: a full collection then walks
        # only what requests made, and holds the GIL, /healthz's included,
        # for that much less.
        gc.freeze()
        yield
        sys.setswitchinterval(switch)
        if compiler is not None:
            compiler.stop()
        executor.shutdown(wait=False, cancel_futures=True)
        loops.stop()

    routes = [
        *dashboard.routes(),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", health.endpoint(Path(data_dir), compiler)),
        Route("/metrics", metrics.endpoint),
        *ide.routes(),
    ]
    tokens = TokenCache(TokenStore(Path(data_dir), catalog=store.catalog))
    guards = _middleware(settings, tokens, metrics)
    app = Starlette(routes=routes, middleware=guards, lifespan=lifespan)
    app.state.store = store
    return app


def _middleware(settings: ServeSettings, tokens: TokenCache, metrics: Metrics) -> list[Middleware]:
    """Outermost first: a foreign Host is refused before anything else (DNS
    rebinding); CORS answers preflights and marks every answer, refusals
    included, so a page on an allowed origin can read them; then every
    /graphql request is logged and counted, refused or not; then tokens, then
    body size, both before a body is read."""
    stack = [Middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts())]
    if settings.cors_origins:
        stack.append(Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", *PREFLIGHT_HEADERS],
            max_age=600,
        ))
    stack += [
        Middleware(Observe, metrics=metrics),
        Middleware(TokenGate, tokens=tokens, allow_writes=settings.allow_writes),
        Middleware(BodyGuard, max_body=settings.max_body, max_upload=settings.max_upload),
    ]
    return stack
