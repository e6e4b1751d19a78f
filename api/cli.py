"""The ``evalql`` command: serve, ingest, demo, init, models, delete, token, check, report."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from evalql.api import backends, token_command
from evalql.api import report as report_command
from evalql.api.settings import ServeSettings, from_arguments
from evalql.api.settings import add_arguments as add_serve_options
from evalql.storage.errors import StoreError

if TYPE_CHECKING:
    from evalql.storage.catalog import Catalog
    from evalql.storage.datasets import SplitStore

DESCRIPTION = (
    "Serve the evaluation metrics of classification models as a GraphQL API. "
    "Store a model's predictions once per run and split with 'evalql ingest' "
    "(or try the demo data with 'evalql demo'), then 'evalql serve'."
)
EPILOG = (
    "DIR (--data) defaults to $EVALQL_DATA, else ./evalql-data. "
    "Run 'evalql COMMAND --help' for the options of a command."
)
DATA_HELP = "store directory (default: $EVALQL_DATA, else ./evalql-data)"

# 128 + SIGPIPE, what a shell reports for a command cut off by `| head`.
EXIT_BROKEN_PIPE = 141

log = logging.getLogger("evalql")


class Refused(Exception):
    """The command as given cannot run; ``main`` prints it as one line."""


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("EVALQL_DATA") or "evalql-data")


def _open_store(args: argparse.Namespace) -> Catalog:
    """The store of a command that only reads: StoreNotFound rather than a new,
    empty store when ``--data`` names a folder that holds none."""
    from evalql.storage.catalog import Catalog

    return Catalog(_data_dir(args.data), create=False)


def _open_for_writing(args: argparse.Namespace) -> Catalog:
    """The store of a command that writes to an existing store: refused like
    ``_open_store`` when there is none, then migrated and rid of orphans."""
    from evalql.storage.staging import open_for_writing

    return open_for_writing(_open_store(args).root)


OBJECTS_HELP = (
    "s3://bucket/prefix for the store's split files (the catalog stays in DIR); the "
    "store remembers it. Credentials and endpoint: the AWS_* variables "
    "(default: $EVALQL_OBJECTS, else where the store's setting says, else DIR)"
)


def _objects(args: argparse.Namespace) -> str | None:
    """``--objects``, else ``$EVALQL_OBJECTS``, in canonical form; None when
    neither is given (an empty variable counts as not given)."""
    from evalql.storage.objects import OBJECTS_VARIABLE, parse_location

    text = args.objects or os.environ.get(OBJECTS_VARIABLE, "").strip()
    return parse_location(text) if text else None


def _remember_objects(catalog: Catalog, location: str | None) -> None:
    """A write command given ``--objects``: the store remembers it."""
    if location is not None:
        from evalql.storage.objects import remember

        remember(catalog, location)


def _count(n: int, noun: str) -> str:
    """``_count(1, "row")`` -> ``"1 row"``; ``_count(2000, "row")`` -> ``"2,000 rows"``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


class Progress:
    """A command's progress on a terminal: each stage, and for an ingest a bar
    of the rows read, redrawn in place. Off a terminal it writes nothing, so a
    script's or a log's stderr holds only errors (one line each), whatever the
    input's size."""

    WIDTH = 30

    def __init__(self, tty: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty

    def stage(self, stage: str) -> None:
        if self.tty:
            self._draw(f"{stage}…")

    def rows(self, stage: str, done: int, total: int) -> None:
        if self.tty:
            share = done / total if total else 1.0
            filled = int(share * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self._draw(f"{stage} [{bar}] {share:4.0%} {done:,} / {total:,} rows")

    def clear(self) -> None:
        if self.tty:
            self._draw("")

    def _draw(self, text: str) -> None:
        print(f"\r\x1b[K{text}", end="", file=self.stream, flush=True)


def _check_port(host: str, port: int) -> None:
    """Refuse a port that another process holds, in a moment rather than after
    the app has started. The probe binds as uvicorn does (SO_REUSEADDR), so a
    port it can take is one uvicorn can take."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise Refused(f"cannot listen on {host}: {error.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                message = f"port {port} on {host} is in use; choose another with --port"
            else:
                message = f"cannot listen on {host}:{port}: {error.strerror}"
            raise Refused(message) from None


def _base_url(host: str, port: int) -> str:
    """``_base_url("::1", 8000)`` -> ``"http://[::1]:8000"``."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def cmd_serve(args: argparse.Namespace) -> int:
    # Cheap refusals first: a busy port or a mistyped --data is reported at
    # once, before importing the app (and Numba) takes seconds.
    _check_port(args.host, args.port)
    catalog = _open_store(args)
    settings = _serve_settings(args)
    objects = _objects(args)
    # Our own lines (store, URLs, kernel compile progress) in uvicorn's format, on stderr.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    root = catalog.root.resolve()
    log.info("Serving the store %s (%s)", root, _count(len(catalog.models()), "model"))
    base = _base_url(args.host, args.port)
    log.info("GraphiQL: %s/graphql   dashboard: %s/", base, base)
    _log_access(catalog.root, settings)
    _log_memory(settings.memory)
    _log_objects(catalog, objects)

    from evalql.api.warmup import KernelCompiler

    compiler = KernelCompiler()
    compiler.launch()  # compiles (or loads) kernels while the app imports
    import uvicorn

    from evalql.api.app import create_app

    app = create_app(root, compiler=compiler, settings=settings)
    _install_dask(args, app.state.store)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info")
    # uvicorn has set its loggers up (in Config): from here on, log lines are
    # written by a thread of their own, never on the event loop.
    from evalql.api.observability import GraphQLLinesOnce, log_off_the_loop

    logging.getLogger("uvicorn.access").addFilter(GraphQLLinesOnce())
    log_off_the_loop()
    uvicorn.Server(config).run()
    return 0


DASK_HELP = (
    "send the scans of large multiclass splits to the dask.distributed scheduler at this "
    "address (needs the evalql[dask] extra here and on the workers, which must reach the "
    "split files: the same path, or s3://) (default: $EVALQL_DASK, else in process)"
)


def _install_dask(args: argparse.Namespace, store: SplitStore) -> None:
    """``--dask``: connect to the scheduler and install the Dask backend for the store."""
    address = args.dask or os.environ.get(backends.DASK_ADDRESS_VARIABLE, "").strip()
    if not address:
        return
    try:
        from evalql.api.backends.dask import DaskBackend
    except ImportError as error:
        raise Refused(f"--dask needs dask.distributed ({error.name} is missing): "
                      "pip install 'evalql[dask]'") from None
    try:
        backend = DaskBackend.connect(address, store, fragment_rows=args.dask_fragment_rows,
                                      min_rows=args.dask_min_rows)
    except (OSError, TimeoutError, ValueError) as error:
        raise Refused(f"cannot reach the Dask scheduler at {address}: {error}") from None
    backends.install(store.root, backend)
    workers = len(backend.client.scheduler_info().get("workers", {}))
    log.info("Dask: %s (%s); splits of %s rows and more scan there, in fragments of %s rows",
             address, _count(workers, "worker"), f"{args.dask_min_rows:,}",
             f"{args.dask_fragment_rows:,}")


def _serve_settings(args: argparse.Namespace) -> ServeSettings:
    try:
        return from_arguments(args)
    except ValueError as error:
        raise Refused(str(error)) from None


def _log_access(root: Path, settings: ServeSettings) -> None:
    """Who may read and write, in one line, so an open server is never a surprise."""
    from evalql.storage.tokens import TokenStore

    count = len(TokenStore(root).list())
    if count:
        log.info("%s: /graphql and /metrics need a bearer token", _count(count, "token"))
    else:
        writes = "on (--allow-writes)" if settings.allow_writes else "off"
        log.info("No tokens: reads are open to anyone who reaches %s; writes are %s",
                 settings.host, writes)


def _log_memory(budget: int) -> None:
    """``Memory budget 11.7 GiB (50% of RAM)``: what the server may keep in
    memory (loaded splits and what is derived from them) before it evicts."""
    from evalql.storage.datasets import physical_memory

    gib = budget / (1 << 30)
    size = f"{gib:.1f} GiB" if gib >= 1 else f"{budget / (1 << 20):.0f} MiB"
    log.info("Memory budget %s (%.0f%% of RAM)", size, 100 * budget / physical_memory())


def _log_objects(catalog: Catalog, given: str | None) -> None:
    """Where split files go and whether it can be reached, in a line or two.

    ``--objects`` is recorded, so uploads through the API go there too; a
    store that cannot be written (a full disk) keeps serving, and an
    unreachable bucket only makes its splits DATA_UNAVAILABLE until it can
    be reached, so neither stops the server.
    """
    from evalql.storage.errors import StoreError
    from evalql.storage.object_cache import CACHE_DIR
    from evalql.storage.objects import OBJECTS_SETTING, probe

    if given is not None:
        try:
            _remember_objects(catalog, given)
        except StoreError as error:
            log.warning("Cannot record --objects %s in the store: %s", given, error)
    location = given or catalog.setting(OBJECTS_SETTING)
    if location is None:
        return
    log.info("Split files on %s; read through local copies in %s", location,
             catalog.root.resolve() / CACHE_DIR)
    problem = probe(location)
    if problem is not None:
        log.warning("Cannot reach %s (%s): its splits answer DATA_UNAVAILABLE until it can "
                    "be reached", location, problem)


def _labels(text: str | None) -> tuple[str, ...] | None:
    """``--labels "a, b"`` -> ``("a", "b")``: spaces around each label are not part of it."""
    return None if text is None else tuple(label.strip() for label in text.split(","))


def _run_meta(pairs: Sequence[str] | None) -> dict[str, str]:
    """``--run-meta lr=0.01 --run-meta commit=ab12`` -> ``{"lr": "0.01", "commit": "ab12"}``.

    Split at the first "=", so a value may hold one; a key given twice keeps
    its last value, as a later ingest's would. Values stay strings.
    """
    meta: dict[str, str] = {}
    for pair in pairs or ():
        key, equals, value = pair.partition("=")
        if not equals:
            raise Refused(f"--run-meta {pair!r} has no '=': give it as key=value")
        if not key.strip():
            raise Refused(f"--run-meta {pair!r} has an empty key: give it as key=value")
        meta[key] = value
    return meta


def _reusing_allocator() -> None:
    """Arrow allocates from jemalloc for the rest of this process, unless
    ARROW_DEFAULT_MEMORY_POOL chooses, or the build has no jemalloc.

    An ingest allocates and frees gigabytes in a few passes. mimalloc, Arrow's
    default, keeps taking fresh memory that the kernel backs with 2 MB huge
    pages, each zeroed on first touch (perf: clear_page was 38-43% of an
    ingest's CPU); jemalloc zeroes only the 4 KB pages touched. Its freed
    pages go back at once (decay 0): the peak is the data alive, not what a
    slower decay still holds. 30M x 100 Parquet, runs alternating at load
    2.0-2.4: mimalloc 9.3 s of CPU, 8.3 s wall, peak 2.64 GB; jemalloc
    with Arrow's decay 7.5-7.7 s, 6.1-6.8 s, 2.86-2.89 GB; with decay 0
    7.9-8.2 s, 6.2-7.7 s, 1.99 GB. Only for ``evalql ingest``, whose process
    ends with it; a server keeps Arrow's default.
    """
    import pyarrow as pa

    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:
        pass  # a pyarrow built without jemalloc keeps its default


def cmd_ingest(args: argparse.Namespace) -> int:
    from evalql.storage.ingest import IngestOptions, ingest_file

    run_meta = _run_meta(args.run_meta)  # refused before the file is read
    _reusing_allocator()
    options = IngestOptions(
        task=args.task,
        labels=_labels(args.labels),
        id_column=args.id_column,
        actual_column=args.actual_column,
        predicted_column=args.predicted_column,
        confidence_column=args.confidence_column,
        scores_column=args.scores_column,
        replace=args.replace,
        run_meta=run_meta,
        objects=_objects(args),
    )
    shown = Progress()
    try:
        summary = ingest_file(
            _data_dir(args.data), Path(args.file), args.model, args.run, args.split,
            options, progress=shown.stage, rows=shown.rows,
        )
    finally:
        shown.clear()
    print(summary)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from evalql.storage.catalog import Catalog
    from evalql.storage.demo import build_demo

    root = _data_dir(args.data)
    objects = _objects(args)
    if args.if_empty and not Catalog(root).is_empty():
        return 0
    shown = Progress()
    try:
        summaries = build_demo(root, progress=shown.stage, objects=objects)
    finally:
        shown.clear()
    for summary in summaries:
        print(summary)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from evalql.storage.staging import open_for_writing

    objects = _objects(args)
    catalog = open_for_writing(_data_dir(args.data))
    _remember_objects(catalog, objects)
    count = len(catalog.models())
    state = "an empty store" if not count else f"a store of {_count(count, 'model')}"
    print(f"{state} at {catalog.root.resolve()}, ready for 'evalql ingest' or uploads")
    return 0


def _parts(path: str) -> list[str]:
    """``"m/v1/test"`` -> ``["m", "v1", "test"]``; names never hold a "/"."""
    parts = path.split("/")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise Refused(f"{path!r} is not MODEL, MODEL/RUN or MODEL/RUN/SPLIT")
    return parts


def cmd_delete(args: argparse.Namespace) -> int:
    from evalql.storage.delete import delete_model, delete_run, delete_split

    parts = _parts(args.path)
    objects = _objects(args)
    catalog = _open_store(args)
    _remember_objects(catalog, objects)
    remove = {1: delete_model, 2: delete_run, 3: delete_split}[len(parts)]
    deleted = remove(catalog.root, *parts)
    if deleted is None:
        kind = ("model", "run", "split")[len(parts) - 1]
        raise Refused(f"there is no {kind} {args.path} in {catalog.root.resolve()}")
    print(deleted)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    catalog = _open_store(args)
    models = catalog.models()
    if not models:
        root = catalog.root.resolve()
        print(f"evalql models: no models in {root} yet (add one with 'evalql ingest')",
              file=sys.stderr)
    for model in models:
        print(f"{model.name}  ({model.task}, {_count(len(model.labels), 'label')})")
        for run in catalog.runs(model.name):
            for split in catalog.splits(model.name, run.name):
                print(f"  {run.name}/{split.name}  {_count(split.row_count, 'row')}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from evalql.storage.check import check_store

    shown = Progress()
    try:
        report = check_store(
            _data_dir(args.data), repair=args.repair, progress=shown.stage,
            objects_location=_objects(args),
        )
    finally:
        shown.clear()
    for line in report.lines():
        print(line)
    return 0 if report.healthy else 1


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}")
    return port


def _rows(text: str) -> int:
    digits = text.strip().replace("_", "").replace(",", "")
    rows = int(digits) if digits.isdigit() else 0
    if rows < 1:
        raise argparse.ArgumentTypeError(f"a number of rows is a whole number above 0, "
                                         f"not {text!r}")
    return rows


def _version() -> str:
    from importlib.metadata import version

    return version("evalql")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: …)" to every option that has a default to show;
    required options and flags (default None or False) stay as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.required or action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand, as SPEC lists them."""
    top = argparse.ArgumentParser(
        prog="evalql", description=DESCRIPTION, epilog=EPILOG, formatter_class=_HelpFormatter
    )
    top.add_argument("--version", action="version", version=f"evalql {_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, description=summary[0].upper() + summary[1:] + ".",
            formatter_class=_HelpFormatter,
        )

    serve = command("serve", "serve GraphQL (GraphiQL at http://HOST:PORT/graphql) from a store")
    serve.add_argument("--data", metavar="DIR", help=DATA_HELP)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on")
    serve.add_argument("--objects", metavar="S3_URI", help=OBJECTS_HELP)
    serve.add_argument("--dask", metavar="tcp://HOST:PORT", help=DASK_HELP)
    serve.add_argument(
        "--dask-fragment-rows", type=_rows, metavar="N",
        default=os.environ.get("EVALQL_DASK_FRAGMENT_ROWS", str(backends.DEFAULT_FRAGMENT_ROWS)),
        help="rows of a split fragment on a Dask worker; $EVALQL_DASK_FRAGMENT_ROWS",
    )
    serve.add_argument(
        "--dask-min-rows", type=_rows, metavar="N",
        default=os.environ.get("EVALQL_DASK_MIN_ROWS", str(backends.DEFAULT_MIN_ROWS)),
        help="splits with fewer rows are scanned in process; $EVALQL_DASK_MIN_ROWS",
    )
    add_serve_options(serve)
    serve.set_defaults(handler=cmd_serve)

    ingest = command("ingest", "store a file of predictions as a split (creates the store)")
    ingest.add_argument(
        "file", metavar="FILE",
        help="predictions: Parquet, CSV, JSON Lines (.jsonl, .ndjson, .json) "
             "or Arrow IPC / Feather, by extension",
    )
    ingest.add_argument("--model", required=True, metavar="NAME", help="model name (required)")
    ingest.add_argument("--run", required=True, metavar="NAME",
                        help="run name, such as a model version (required)")
    ingest.add_argument("--split", required=True, metavar="NAME",
                        help="split name, such as test (required)")
    ingest.add_argument("--data", metavar="DIR", help=DATA_HELP)
    ingest.add_argument("--objects", metavar="S3_URI", help=OBJECTS_HELP)
    ingest.add_argument("--task", choices=["multiclass", "multilabel"], default="multiclass",
                        help="one label a row, or a list of labels a row")
    ingest.add_argument(
        "--labels", metavar="A,B,C",
        help="the model's labels in order, comma-separated; fixes them at the model's "
             "first ingest (default: the sorted union of the labels seen)",
    )
    ingest.add_argument("--id-column", default="id", metavar="NAME",
                        help="column of unique row ids; without it, rows are numbered")
    ingest.add_argument("--actual-column", default="actual", metavar="NAME",
                        help="column of ground-truth labels")
    ingest.add_argument("--predicted-column", default="predicted", metavar="NAME",
                        help="column of predicted labels")
    ingest.add_argument("--confidence-column", default="confidence", metavar="NAME",
                        help="column of confidences in [0, 1]; without it, all are 1.0")
    ingest.add_argument("--scores-column", default="scores", metavar="NAME",
                        help="column of per-label probability lists, if the file has one")
    ingest.add_argument("--replace", action="store_true",
                        help="replace the split if it exists (default: refuse)")
    ingest.add_argument(
        "--run-meta", action="append", metavar="KEY=VALUE",
        help="the run's metadata, such as commit=ab12cd3 or lr=0.001 (repeatable); merged "
             "into what the run has: a key given again takes the later value (default: none)",
    )
    ingest.set_defaults(handler=cmd_ingest)

    demo = command("demo", "(re)create the demo store (creates the store)")
    demo.add_argument("--data", metavar="DIR", help=DATA_HELP)
    demo.add_argument("--objects", metavar="S3_URI", help=OBJECTS_HELP)
    demo.add_argument("--if-empty", action="store_true",
                      help="only when the store holds no model (default: always rebuild)")
    demo.set_defaults(handler=cmd_demo)

    models = command("models", "list the models, runs and splits of a store")
    models.add_argument("--data", metavar="DIR", help=DATA_HELP)
    models.set_defaults(handler=cmd_models)

    init = command("init", "create an empty store, such as for a server that only receives "
                           "uploads (an existing store is left as it is)")
    init.add_argument("--data", metavar="DIR", help=DATA_HELP)
    init.add_argument("--objects", metavar="S3_URI", help=OBJECTS_HELP)
    init.set_defaults(handler=cmd_init)

    delete = command("delete", "delete a model, a run or a split, with everything under it")
    delete.add_argument("path", metavar="MODEL[/RUN[/SPLIT]]",
                        help="what to delete: m (the model m), m/v1 (its run v1) or m/v1/test")
    delete.add_argument("--data", metavar="DIR", help=DATA_HELP)
    delete.add_argument("--objects", metavar="S3_URI",
                        help=OBJECTS_HELP + "; a split's object is deleted where it was written")
    delete.set_defaults(handler=cmd_delete)

    token_command.add_command(
        sub, _HelpFormatter, DATA_HELP,
        read=lambda a: _open_store(a).root, write=lambda a: _open_for_writing(a).root,
    )
    report_command.add_command(
        sub, _HelpFormatter, DATA_HELP, read=lambda a: _open_store(a).root, refused=Refused
    )

    check = command("check", "verify a store: the catalog against its files and their "
                             "checksums (exit 1 when a problem remains)")
    check.add_argument("--data", metavar="DIR", help=DATA_HELP)
    check.add_argument("--objects", metavar="S3_URI",
                       help="also look for orphan objects of this store under this s3:// "
                            "location (default: $EVALQL_OBJECTS; always: the store's setting "
                            "and wherever its splits are)")
    check.add_argument("--repair", action="store_true",
                       help="migrate the catalog and remove orphan files first; "
                            "never deletes a split (default: only report)")
    check.set_defaults(handler=cmd_check)
    return top


def _quiet_broken_pipe() -> int:
    # The reader went away (`evalql models | head`). Python flushes stdout
    # once more at exit; pointing it at devnull keeps that flush from raising
    # a second time (the recipe in the docs of the signal module, "Note on SIGPIPE").
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # so a closed pipe shows here, not in the exit flush
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except (StoreError, Refused) as error:
        print(f"evalql {args.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # storage names the store (StoreIOError); this is the rest
        where = f"{error.filename}: " if error.filename else ""
        print(f"evalql {args.command}: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
