"""Ingesting a file that arrives as a stream, such as an HTTP upload.

``ingest_upload(root, stream, "preds.csv", "m", "v1", "test")`` copies the
stream in 1 MiB chunks to ``tmp/<id>.upload.csv`` in the store and ingests
that file with ``ingest_file``: validation, atomicity and every refusal are
the CLI's. The copy keeps the upload's suffix, so the reader registry picks
its format as it does for ``evalql ingest preds.csv``. It is never held whole
in memory (the table read from it is, as in the CLI).

The copy lives under an ingest id whose lock (``storage.staging.Staging``)
is held while it is read, so no orphan sweep removes it meanwhile, and one
left by a killed server is an orphan that the next write command removes.
Errors name the upload by its own file name, never by the path on the
server: ``preds.csv: column 'confidence', row 17: value 1.3 is outside [0, 1]``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import BinaryIO

from evalql.storage.catalog import TMP_DIR
from evalql.storage.errors import IngestError, store_io
from evalql.storage.ingest import IngestOptions, IngestSummary, ingest_file
from evalql.storage.staging import Staging

CHUNK_BYTES = 1 << 20
# Upload names come from the client: shown in messages, so kept short and plain.
_MAX_SHOWN = 100
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")


def shown_name(filename: str | None) -> str:
    """The name an upload is called by in messages: its last path part,
    printable, at most 100 characters. ``shown_name("../x/p.csv")`` -> ``"p.csv"``."""
    name = _base_name(filename)
    if len(name) > _MAX_SHOWN:
        name = name[: _MAX_SHOWN - 3] + "..."
    return name or "upload"


def upload_suffix(filename: str | None) -> str:
    """The suffix that picks the reader: ``"P.CSV"`` -> ``".csv"``; ``""`` when
    there is none fit for a file name (the reader registry then says what is known)."""
    suffix = Path(_base_name(filename) or "upload").suffix
    return suffix.lower() if _SUFFIX.fullmatch(suffix) else ""


def _base_name(filename: str | None) -> str:
    name = re.split(r"[/\\]", filename or "")[-1]
    return "".join(c for c in name if c.isprintable()).strip()


def ingest_upload(
    root: Path,
    source: BinaryIO,
    filename: str | None,
    model: str,
    run: str,
    split: str,
    options: IngestOptions | None = None,
) -> IngestSummary:
    """Store the file read from ``source`` (called ``filename`` by its sender)
    as the split ``model/run/split``, exactly as ``evalql ingest`` would."""
    root = Path(root)
    shown = shown_name(filename)
    # store_io: a full disk or a permission is one StoreIOError line; our
    # own errors (IngestError among them) pass through it as they are.
    with store_io(root, "write"):
        (root / TMP_DIR).mkdir(parents=True, exist_ok=True)
        with Staging(root) as claim:
            spooled = root / TMP_DIR / f"{claim.id}.upload{upload_suffix(filename)}"
            try:
                _copy(source, spooled)
                return ingest_file(root, spooled, model, run, split, options or IngestOptions())
            except IngestError as error:
                raise _named(error, spooled, shown) from None
            finally:
                spooled.unlink(missing_ok=True)


def _copy(source: BinaryIO, target: Path) -> None:
    """``source`` from its start to ``target``, a chunk at a time."""
    source.seek(0)
    with open(target, "xb") as sink:
        shutil.copyfileobj(source, sink, CHUNK_BYTES)


def _named(error: IngestError, spooled: Path, shown: str) -> IngestError:
    """``error`` about the upload ``shown`` rather than the copy at ``spooled``
    (a reader's own message may quote the path too)."""
    message = error.message.replace(str(spooled), shown)
    return IngestError(shown, message, error.column, error.row)
