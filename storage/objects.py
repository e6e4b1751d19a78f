"""Split files on object storage (S3): where they go, and moving them there and back.

A store keeps its catalog in its folder, always; its split files may live in
a bucket instead. ``evalql ingest|demo|serve --objects s3://bucket/prefix``
(or ``EVALQL_OBJECTS``) says where new split files go, and the store
remembers it (the catalog's setting ``objects``, schema version 2), so later
commands need no flag. Each file is written once, to

    s3://bucket/prefix/store-<store id>/splits/<ingest id>.arrow

and the catalog keeps that whole URI as the split's path. So every split is
read from where it was written: a store that moves from local files to a
bucket, or to another bucket, keeps reading its older splits. The store id
(a random setting, made with the settings table) gives each store a folder of
its own under a shared prefix, so ``evalql check --repair``, which removes
orphan objects, only ever looks at its own store's objects.

Credentials and the endpoint come from the usual AWS variables, never from
the catalog or the URI: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
(``AWS_SESSION_TOKEN``), else the AWS SDK's own chain (``~/.aws``, an instance
role); ``AWS_REGION`` or ``AWS_DEFAULT_REGION``, else the bucket's region
asked of S3; ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` for an
S3-compatible service (MinIO, moto: ``http://127.0.0.1:9000``).

The server never reads an object per query: ``storage.object_cache`` copies
a split to the store's folder on its first load and memory-maps the copy.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from evalql.storage.errors import StoreError

if TYPE_CHECKING:
    from evalql.storage.catalog import Catalog, CatalogWriter

OBJECTS_SETTING = "objects"  # the catalog setting: where new split files go
STORE_ID_SETTING = "store_id"
OBJECTS_VARIABLE = "EVALQL_OBJECTS"

CHUNK_BYTES = 8 << 20  # what an upload writes at a time
RANGE_BYTES = 16 << 20  # a download's ranged GETs ...
PARALLEL_RANGES = 8  # ... this many at once
# A dead endpoint is reported in seconds rather than hanging a query; a slow
# transfer that keeps moving is never cut (the timeout is between bytes).
_CONNECT_TIMEOUT_SECONDS = 10.0
_REQUEST_TIMEOUT_SECONDS = 60.0

# S3's bucket names: 3-63 lower-case letters, digits, dots and hyphens.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class ObjectStoreError(StoreError):
    """Object storage refused or failed, in one line with the URI.

    >>> str(ObjectStoreError("s3://b/p", "cannot write", "Access Denied"))
    's3://b/p: cannot write: Access Denied'
    """

    def __init__(self, uri: str, action: str, reason: str) -> None:
        super().__init__(uri, action, reason)
        self.uri = uri
        self.action = action
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.uri}: {self.action}: {self.reason}"


def parse_location(text: str) -> str:
    """The canonical form of an ``--objects`` value: ``s3://bucket/prefix``.

    ``parse_location("s3://evals/team-a/")`` -> ``"s3://evals/team-a"``. Only
    s3:// is known; keys, query strings and credentials in the URI are
    refused (credentials would end up in the catalog, and the endpoint comes
    from AWS_ENDPOINT_URL).
    """
    parts = urlsplit(text.strip())
    where = f"--objects {text!r}"
    if parts.scheme != "s3":
        raise StoreError(f"{where} is not an object storage location: write s3://bucket/prefix")
    if parts.username or parts.password or parts.port or "@" in parts.netloc:
        raise StoreError(
            f"{where} carries credentials or a port; credentials and the endpoint come "
            "from the AWS_* variables (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...)"
        )
    if parts.query or parts.fragment:
        raise StoreError(f"{where} has a query or fragment; write s3://bucket/prefix")
    if not _BUCKET.fullmatch(parts.netloc):
        raise StoreError(
            f"{where}: {parts.netloc!r} is not an S3 bucket name "
            "(3-63 lower-case letters, digits, dots and hyphens)"
        )
    prefix = "/".join(part for part in parts.path.split("/") if part)
    if any(part in (".", "..") for part in prefix.split("/")):
        raise StoreError(f"{where}: a prefix cannot contain '.' or '..'")
    return f"s3://{parts.netloc}" + (f"/{prefix}" if prefix else "")


def is_object_path(path: str) -> bool:
    """Whether a split's catalog path is an object URI rather than a path in the store."""
    return "://" in path


def store_folder(location: str, store_id: str) -> str:
    """The store's own folder under ``location``, where nothing else is written:
    ``store_folder("s3://b/p", "ab12")`` -> ``"s3://b/p/store-ab12"``."""
    return f"{location}/store-{store_id}"


def split_uri(folder: str, ingest_id: str) -> str:
    """Where the split file of one ingest goes in a store folder:
    ``split_uri("s3://b/p/store-ab12", "cd34")`` -> ``"s3://b/p/store-ab12/splits/cd34.arrow"``."""
    return f"{folder}/splits/{ingest_id}.arrow"


def target_folder(tx: CatalogWriter, requested: str | None) -> str | None:
    """The store folder an ingest writes its split file to: under ``requested``
    (a canonical ``--objects`` location) or else the store's ``objects``
    setting; None when the store keeps its files locally."""
    location = requested or tx.setting(OBJECTS_SETTING)
    if location is None:
        return None
    store_id = tx.setting(STORE_ID_SETTING)
    assert store_id is not None, "a migrated catalog always has a store id"
    return store_folder(location, store_id)


def ingest_id_of(uri: str) -> str:
    """The ingest id in a split object's name (what its staging lock is named by)."""
    return uri.rsplit("/", 1)[-1].split(".")[0]


# --- the file system ------------------------------------------------------------


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's S3 file system for ``uri`` (configured from the environment),
    and the path of ``uri`` in it: ``"bucket/key"``."""
    parts = urlsplit(uri)
    if parts.scheme != "s3":
        raise StoreError(f"{uri!r} is not an s3:// URI")
    path = parts.netloc + parts.path
    return _s3(parts.netloc, *_environment()), path


def _environment() -> tuple[str | None, ...]:
    """The AWS variables that configure the file system, as a cache key."""
    env = os.environ.get
    endpoint = env("AWS_ENDPOINT_URL_S3") or env("AWS_ENDPOINT_URL")
    region = env("AWS_REGION") or env("AWS_DEFAULT_REGION")
    return (
        endpoint, region, env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
        env("AWS_SESSION_TOKEN"),
    )


@functools.lru_cache(maxsize=16)
def _s3(
    bucket: str, endpoint: str | None, region: str | None, key: str | None,
    secret: str | None, token: str | None,
) -> pafs.S3FileSystem:
    """One S3FileSystem per bucket and configuration (it holds a connection
    pool, so it is kept rather than made per request)."""
    options: dict[str, object] = {
        "connect_timeout": _CONNECT_TIMEOUT_SECONDS,
        "request_timeout": _REQUEST_TIMEOUT_SECONDS,
    }
    if endpoint:
        # pyarrow wants the host (and port) and the scheme apart; it reads
        # no endpoint variable of its own in every version, so it is passed.
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        options["scheme"] = parts.scheme or "https"
    if region:
        options["region"] = region
    elif not endpoint:
        # Real S3 answers a request sent to the wrong region with a redirect
        # that pyarrow does not follow: ask for the bucket's region once.
        with contextlib.suppress(OSError):
            options["region"] = pafs.resolve_s3_region(bucket)
    if key and secret:
        options.update(access_key=key, secret_key=secret)
        if token:
            options["session_token"] = token
    return pafs.S3FileSystem(**options)


def reason(error: BaseException) -> str:
    """An object storage error in one line (pyarrow's messages span several)."""
    return " ".join(str(error).split()) or type(error).__name__


# --- moving files ------------------------------------------------------------------


def upload(local: Path, uri: str) -> None:
    """Copy the file at ``local`` to ``uri`` (ObjectStoreError when refused).

    pyarrow sends a large file as a multipart upload, which S3 makes visible
    only once complete, so a reader never sees half an object; an upload cut
    off leaves parts that a bucket's lifecycle rule (AbortIncompleteMultipartUpload)
    clears.
    """
    fs, path = filesystem(uri)
    with open(local, "rb") as source:  # a local failure is the caller's store_io's
        try:
            with fs.open_output_stream(path) as sink:
                while chunk := source.read(CHUNK_BYTES):
                    sink.write(chunk)
        except OSError as error:
            raise ObjectStoreError(uri, "cannot write", reason(error)) from error


def read_chunks(uri: str) -> Iterator[pa.Buffer]:
    """The object at ``uri`` in order, ``RANGE_BYTES`` at a time.

    The ranges are fetched ``PARALLEL_RANGES`` at once (ranged GETs, as AWS
    advises for large objects: one connection to S3 carries well under what
    a machine can take), and handed out in order, so at most that many
    ranges are held. FileNotFoundError when the object does not exist,
    another OSError when it cannot be read (the callers turn either into
    their own error).
    """
    fs, path = filesystem(uri)
    with fs.open_input_file(path) as file, ThreadPoolExecutor(
        PARALLEL_RANGES, thread_name_prefix="evalql-s3"
    ) as pool:
        size = file.size()
        pending: deque[Future[pa.Buffer]] = deque()
        for offset in range(0, size, RANGE_BYTES):
            # read_at is thread-safe: each call is a GET of its own range.
            pending.append(pool.submit(file.read_at, min(RANGE_BYTES, size - offset), offset))
            if len(pending) == PARALLEL_RANGES:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def remove(uri: str) -> None:
    """Delete the object at ``uri``; one that is already gone is fine.

    (pyarrow then leaves an empty ``splits/`` marker object when the folder
    would otherwise vanish: zero bytes, never listed as a file.)
    """
    fs, path = filesystem(uri)
    try:
        fs.delete_file(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ObjectStoreError(uri, "cannot delete", reason(error)) from error


def list_files(folder: str) -> list[str]:
    """The URIs of every object under ``folder`` (a URI), sorted; none when
    the folder does not exist."""
    fs, path = filesystem(folder)
    selector = pafs.FileSelector(path, recursive=True, allow_not_found=True)
    try:
        _check_bucket(fs, path)  # a missing bucket is an error, not an empty folder
        infos = fs.get_file_info(selector)
    except OSError as error:
        raise ObjectStoreError(folder, "cannot list", reason(error)) from error
    return sorted(f"s3://{info.path}" for info in infos if info.type == pafs.FileType.File)


def probe(location: str) -> str | None:
    """Why ``location`` cannot be reached, or None when it can (a HEAD of the
    bucket and one LIST).

    What ``evalql serve`` asks at start, so a wrong endpoint, key or bucket
    is said once in the log rather than found by the first query.
    """
    try:
        fs, path = filesystem(location)
        _check_bucket(fs, path)
        fs.get_file_info(pafs.FileSelector(path, recursive=False, allow_not_found=True))
    except (OSError, StoreError) as error:
        return reason(error)
    return None


def _check_bucket(fs: pafs.FileSystem, path: str) -> None:
    bucket = path.split("/", 1)[0]
    if fs.get_file_info(bucket).type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"the bucket {bucket} does not exist")


def remember(catalog: Catalog, location: str) -> bool:
    """Record ``location`` (canonical) as where the store's new split files go;
    True when that changed the store's setting. A write: one transaction."""
    with catalog.transaction() as tx:
        if tx.setting(OBJECTS_SETTING) == location:
            return False
        tx.put_setting(OBJECTS_SETTING, location)
        return True
