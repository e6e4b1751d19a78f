"""Where a settled metrics page spends its time: cProfile of in-process executions.

The page's GraphQL document runs through the schema in this process, as the
server runs it, but in one thread: the view's blocking work (``Context.run``)
runs inline instead of on the thread pool, so cProfile sees every Python
call of the request (parsing, validation, resolvers, views, DataLoader,
engine wrappers and the kernels they call). A kernel's second row range runs
on the scan pool as in the server; this thread waits for it, and the wait is
reported as such. What the profile leaves out is the HTTP side (uvicorn,
Starlette, JSON encoding, the hop to the execution loop): the difference
between the page's median over HTTP and its median here.

    python bench/profile_page.py                 # 10M x 100, 30 pages
    python bench/run.py --profile                # the same, after the table
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any

import numpy as np
from common import PAGE_QUERY, Dataset, Thresholds, fmt_seconds, log, prepare, split_vars

# Where a function's own time goes, by the file it is defined in (first
# match wins). Kernels are compiled code called from the engine's wrappers:
# their time is the wrappers' own time.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("engine: kernels and their wrappers", ("/engine/",)),
    ("api: views, split cache, context", ("/api/",)),
    ("storage: catalog snapshot, split cache", ("/storage/",)),
    ("graphql-core: parse, validate, execute", ("/graphql/",)),
    ("strawberry: schema, extensions, DataLoader", ("/strawberry/",)),
    ("waiting for the other row range (scan pool)", ("threading.py", "_base.py")),
    ("asyncio: event loop", ("/asyncio/",)),
    ("NumPy", ("/numpy/",)),
)


class InlineExecutor(Executor):
    """Runs each submitted call at once, in the caller's thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting request
            future.set_exception(error)
        return future


def _group(filename: str) -> str:
    for name, parts in GROUPS:
        if any(part in filename for part in parts):
            return name
    return "other (builtins, dataclasses, ...)" if filename.startswith("~") else "other Python"


def page_runner(store_dir: Any) -> Callable[[float], dict[str, Any]]:
    """A function answering the metrics page at a threshold, in this thread."""
    from evalql.api.context import Context
    from evalql.api.schema import schema
    from evalql.storage.datasets import SplitStore

    store = SplitStore(store_dir)
    executor = InlineExecutor()
    # One loop for every page: asyncio.run would install a SIGINT handler on
    # each call, which the server does not do per request.
    loop = asyncio.new_event_loop()

    def run(threshold: float) -> dict[str, Any]:
        context = Context(store=store, executor=executor)
        result = loop.run_until_complete(schema.execute(PAGE_QUERY, split_vars(threshold),
                                                        context_value=context))
        if result.errors:
            raise RuntimeError(f"the page failed: {result.errors[0]}")
        assert result.data is not None
        return result.data

    return run


def profile_pages(ds: Dataset, pages: int = 30, top: int = 15) -> str:
    """The breakdown of ``pages`` settled pages at new thresholds, as Markdown."""
    from evalql.api import split_cache

    run = page_runner(ds.store)
    thresholds = Thresholds(start=0.2, step=0.0007)
    run(thresholds.next())  # loads the split; the index build starts
    split_cache._executor.submit(lambda: None).result()  # ... and is done: settled
    for _ in range(3):
        run(thresholds.next())
    samples = []
    profiler = cProfile.Profile()
    for _ in range(pages):
        started = time.perf_counter()
        profiler.enable()
        run(thresholds.next())
        profiler.disable()
        samples.append(time.perf_counter() - started)
    plain = []
    for _ in range(pages):  # without the profiler's overhead
        started = time.perf_counter()
        run(thresholds.next())
        plain.append(time.perf_counter() - started)
    return _report(pstats.Stats(profiler), pages, samples, plain, top)


def _report(stats: pstats.Stats, pages: int, profiled: list[float], plain: list[float],
            top: int) -> str:
    table = stats.stats  # type: ignore[attr-defined]
    by_group: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in table.items():
        by_group[_group(filename)] = by_group.get(_group(filename), 0.0) + own
    total = sum(by_group.values())
    lines = [
        f"A settled metrics page (summary, macro averages, the matrix, the per-label table) "
        f"at a new threshold, executed in process: median {fmt_seconds(float(np.median(plain)))} "
        f"without the profiler, {fmt_seconds(float(np.median(profiled)))} under cProfile "
        f"({pages} pages). Own time by where the code lives, per page under the profiler:",
        "",
        "| where | per page | share |",
        "|---|---|---|",
    ]
    for name, seconds in sorted(by_group.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {fmt_seconds(seconds / pages)} | {seconds / total:.0%} |")
    lines += ["", f"The {top} functions with the most own time, per page:", "",
              "| function | calls per page | own time per page | with callees |", "|---|---|---|---|"]
    ranked = sorted(table.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, name), (_, calls, own, cumulative, _) in ranked:
        where = filename.rsplit("/site-packages/", 1)[-1].rsplit("/main/", 1)[-1]
        lines.append(f"| `{name}` ({where}:{line}) | {calls / pages:g} | "
                     f"{fmt_seconds(own / pages)} | {fmt_seconds(cumulative / pages)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args(argv)
    ds = Dataset(args.rows, args.labels)
    prepare(ds)
    log(f"profiling {args.pages} pages of {ds.title} in process")
    print(profile_pages(ds, args.pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
