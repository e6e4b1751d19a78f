"""Writes over HTTP, below the GraphQL types: uploads and deletes on the store.

The GraphQL mutations (api/types/mutations.py) ask this module, as queries ask
a view; only here do writes reach storage. Writes run one at a time on one
thread of their own, and a storage refusal becomes a user-facing error that
never shows the store's path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from evalql.api.context import Context
from evalql.api.errors import BadUserInput, StoreUnavailable, UserError, translated
from evalql.storage.delete import delete_model, delete_run, delete_split
from evalql.storage.errors import StoreError, StoreIOError, StoreNotFound
from evalql.storage.ingest import IngestOptions
from evalql.storage.run_meta import meta_problem
from evalql.storage.upload import ingest_upload, shown_name

T = TypeVar("T")

log = logging.getLogger("evalql")

_writer: ThreadPoolExecutor | None = None


def _writer_thread() -> ThreadPoolExecutor:
    # Made on first use: importing the schema (to print it, say) starts no thread.
    global _writer
    if _writer is None:
        _writer = ThreadPoolExecutor(1, thread_name_prefix="evalql-write")
    return _writer


async def _write(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on the write thread; a storage error becomes a user-facing one."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_writer_thread(), partial(fn, *args))
    except StoreError as error:
        raise _refused(error) from error


def _refused(error: StoreError) -> UserError:
    """The answer to a write the store refused, without the store's path
    (it is the server's business, not the client's)."""
    if isinstance(error, StoreIOError):
        return StoreUnavailable(f"cannot {error.action} the store: {error.reason}")
    if isinstance(error, StoreNotFound):
        return StoreUnavailable("the server's store is no longer there")
    return translated(error)


async def ingest(
    ctx: Context, upload: Any, model: str, run: str, split: str, task: str | None,
    labels: list[str] | None, replace: bool, columns: dict[str, str],
    run_meta: object = None,
) -> None:
    """Store an uploaded file as model/run/split, as ``evalql ingest`` would.

    ``task`` None means the existing model's, else multiclass; ``columns``
    holds the ``*_column`` options by their IngestOptions names; ``run_meta``
    (the ``runMeta`` JSON, None when not given) is merged into the run's.
    """
    problem = None if run_meta is None else meta_problem(run_meta)
    if problem is not None:  # refused before the upload is copied
        await upload.close()
        raise BadUserInput(f"runMeta: {problem}")
    existing = ctx.store.catalog.model(model)
    default_task = existing.task if existing is not None else "multiclass"
    options = IngestOptions(
        task=task if task is not None else default_task,
        labels=None if labels is None else tuple(labels),
        replace=replace,
        run_meta={} if run_meta is None else run_meta,  # type: ignore[arg-type]
        **columns,
    )
    try:
        summary = await _write(
            ingest_upload, ctx.store.root, upload.file, upload.filename, model, run, split,
            options,
        )
    finally:
        await upload.close()
    log.info("%s, uploaded as %s", summary, shown_name(upload.filename))


async def delete(ctx: Context, model: str, run: str | None = None,
                 split: str | None = None) -> bool:
    """Delete a model, a run or a split; False when there was none of that name."""
    if split is not None and run is not None:
        found = await _write(delete_split, ctx.store.root, model, run, split)
    elif run is not None:
        found = await _write(delete_run, ctx.store.root, model, run)
    else:
        found = await _write(delete_model, ctx.store.root, model)
    return found is not None
