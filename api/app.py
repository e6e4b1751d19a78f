"""The Starlette application: GraphQL (with GraphiQL) at /graphql, and /healthz."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import orjson
from evalql.api import dashboard, ide
from evalql.api.context import Context
from evalql.api.schema import schema
from evalql.engine import histogram, multilabel, selection
from evalql.engine.curves import confusion_counts_at, grid, index_threshold_counts, threshold_counts
from evalql.engine.index import ThresholdIndex
from evalql.engine.kernels import confusion_counts, label_totals
from evalql.engine.ranking import precision_steps, rank_by_confidence, rank_by_scores, top_k_hits
from evalql.storage.datasets import SplitStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL


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


def warm_kernels() -> None:
    """Load (or compile) every kernel now so the first query does not pay for it.

    The arrays are read-only, as the store hands them out: Numba compiles a
    read-only array type separately from a writable one.
    """
    codes, confidence, mask = np.zeros(4, np.int32), np.ones(4, np.float32), np.ones(4, bool)
    scores = np.full((4, 1), 0.5, dtype=np.float32)
    for array in (codes, confidence, mask, scores):
        array.flags.writeable = False
    thresholds = grid(3)
    index = ThresholdIndex.build(codes, codes, confidence, 1)
    index.counts_at(np.float32(0.5))
    index_threshold_counts(index, thresholds)
    for rows in (None, mask):
        confusion_counts(codes, codes, confidence, 0.5, 1, rows)
        label_totals(codes, codes, confidence, 0.5, 1, rows)
        threshold_counts(codes, codes, confidence, thresholds, 1, rows)
        confusion_counts_at(codes, codes, confidence, thresholds, 1, rows)
        rank_by_scores(scores, codes, np.array([0]), rows)
        rank_by_confidence(codes, codes, confidence, np.array([0]), 1, rows)
        precision_steps(codes, codes, confidence, 0, rows)
        top_k_hits(scores, codes, 1, rows)
    selection.warm()
    histogram.warm()
    multilabel.warm()


def create_app(data_dir: Path, workers: int | None = None) -> Starlette:
    """The evalql ASGI app serving the store at ``data_dir``."""
    store = SplitStore(Path(data_dir))
    executor = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2)
    graphql = EvalqlGraphQL(store, executor)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        warm_kernels()
        yield
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
