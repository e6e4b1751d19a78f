"""The Starlette application: GraphQL (with GraphiQL) at /graphql, and /healthz."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from evalql.api import dashboard, ide
from evalql.api.context import Context
from evalql.api.schema import schema
from evalql.api.warmup import KernelCompiler
from evalql.storage.datasets import SplitStore


class EvalqlGraphQL(GraphQL):
    """Strawberry's ASGI view with a fresh per-request Context and an offline GraphiQL."""

    def __init__(self, store: SplitStore, executor: ThreadPoolExecutor) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.store = store
        self.executor = executor

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
    data_dir: Path, workers: int | None = None, compile_kernels: bool = False
) -> Starlette:
    """The evalql ASGI app serving the store at ``data_dir``.

    ``compile_kernels`` starts the compile process (``api.warmup``) with the
    app, as ``evalql serve`` does; without it a kernel compiles in-process on
    first use, which suits tests and scripts.
    """
    store = SplitStore(Path(data_dir))
    # More threads than cores: a request waiting for a kernel to compile, or
    # for a split to load, holds a thread without using a core, and must not
    # keep a request whose kernels are ready from running.
    executor = ThreadPoolExecutor(max_workers=workers or 4 * (os.cpu_count() or 1))
    graphql = EvalqlGraphQL(store, executor)

    compiler = KernelCompiler() if compile_kernels else None

    async def healthz(_: Request) -> JSONResponse:
        body: dict[str, object] = {"status": "ok"}
        if compiler is not None:
            body["kernels"] = compiler.state()
        return JSONResponse(body)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if compiler is not None:
            compiler.start()
        yield
        if compiler is not None:
            compiler.stop()
        executor.shutdown(wait=False, cancel_futures=True)

    routes = [
        *dashboard.routes(),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        *ide.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.store = store
    return app
