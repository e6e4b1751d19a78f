"""The ``evalql`` command: serve, ingest, demo, models."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from evalql.storage.errors import StoreError


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("EVALQL_DATA") or "evalql-data")


def _progress() -> Callable[[str], None] | None:
    """Stage messages on a terminal only, so scripts and logs stay one line."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        print(f"\r\x1b[K{message}…", end="", file=sys.stderr, flush=True)

    return show


def _clear_progress() -> None:
    if sys.stderr.isatty():
        print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from evalql.api.app import create_app

    app = create_app(_data_dir(args.data))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from evalql.storage.ingest import IngestOptions, ingest_file

    options = IngestOptions(
        task=args.task,
        labels=tuple(args.labels.split(",")) if args.labels else None,
        id_column=args.id_column,
        actual_column=args.actual_column,
        predicted_column=args.predicted_column,
        confidence_column=args.confidence_column,
        scores_column=args.scores_column,
        replace=args.replace,
    )
    try:
        summary = ingest_file(
            _data_dir(args.data), Path(args.file), args.model, args.run, args.split,
            options, progress=_progress(),
        )
    finally:
        _clear_progress()
    print(summary)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from evalql.storage.catalog import Catalog
    from evalql.storage.demo import build_demo

    root = _data_dir(args.data)
    if args.if_empty and not Catalog(root).is_empty():
        return 0
    try:
        summaries = build_demo(root, progress=_progress())
    finally:
        _clear_progress()
    for summary in summaries:
        print(summary)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from evalql.storage.catalog import Catalog

    catalog = Catalog(_data_dir(args.data))
    for model in catalog.models():
        print(f"{model.name}  ({model.task}, {len(model.labels)} labels)")
        for run in catalog.runs(model.name):
            for split in catalog.splits(model.name, run.name):
                print(f"  {run.name}/{split.name}  {split.row_count:,} rows")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand, as SPEC lists them."""
    top = argparse.ArgumentParser(prog="evalql", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    data_help = "store directory (default: $EVALQL_DATA, else ./evalql-data)"

    serve = sub.add_parser("serve", help="serve GraphQL at http://HOST:PORT/graphql")
    serve.add_argument("--data", help=data_help)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    ingest = sub.add_parser("ingest", help="store a file of predictions as a split")
    ingest.add_argument("file")
    ingest.add_argument("--model", required=True)
    ingest.add_argument("--run", required=True)
    ingest.add_argument("--split", required=True)
    ingest.add_argument("--data", help=data_help)
    ingest.add_argument("--task", choices=["multiclass", "multilabel"], default="multiclass")
    ingest.add_argument("--labels", help="the model's labels in order, comma-separated")
    ingest.add_argument("--id-column", default="id")
    ingest.add_argument("--actual-column", default="actual")
    ingest.add_argument("--predicted-column", default="predicted")
    ingest.add_argument("--confidence-column", default="confidence")
    ingest.add_argument("--scores-column", default="scores")
    ingest.add_argument("--replace", action="store_true", help="replace an existing split")
    ingest.set_defaults(handler=cmd_ingest)

    demo = sub.add_parser("demo", help="(re)create the demo store")
    demo.add_argument("--data", help=data_help)
    demo.add_argument("--if-empty", action="store_true", help="only when the store is empty")
    demo.set_defaults(handler=cmd_demo)

    models = sub.add_parser("models", help="list what is stored")
    models.add_argument("--data", help=data_help)
    models.set_defaults(handler=cmd_models)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except StoreError as error:
        print(f"evalql {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
