"""A local S3 for the object storage tests: moto's server on loopback.

``moto_endpoint`` starts ``moto.server.ThreadedMotoServer`` once per test
module on 127.0.0.1 (port 0: the system picks a free one); ``s3`` points the
AWS_* variables at it, as a user points them at MinIO or real S3, and gives
each test a bucket of its own. Without moto (``pip install -e '.[s3]'``), or
when it cannot start, the tests using them skip with one line.

Import the fixtures into a test module: ``from tests.s3 import moto_endpoint, s3``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

START_SECONDS = 10.0
REGION = "us-east-1"


@dataclass(frozen=True)
class S3:
    """A bucket on the local S3: ``location`` is what ``--objects`` is given."""

    client: Any  # boto3's S3 client, to look at and damage objects behind evalql's back
    bucket: str
    endpoint: str

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/team"

    def keys(self) -> list[str]:
        """Every object's key in the bucket, sorted; not the empty folder
        markers ("…/splits/") that pyarrow leaves when it deletes a folder's
        last file."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        keys = (item["Key"] for page in pages for item in page.get("Contents", ()))
        return sorted(key for key in keys if not key.endswith("/"))

    def key_of(self, uri: str) -> str:
        """The key of an ``s3://bucket/key`` URI in this bucket."""
        prefix = f"s3://{self.bucket}/"
        assert uri.startswith(prefix), uri
        return uri[len(prefix):]

    def put(self, uri: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key_of(uri), Body=body)

    def get(self, uri: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.key_of(uri))["Body"].read()

    def delete(self, uri: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key_of(uri))


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a moto S3 server running for the module."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("S3 tests skipped: moto[server] is not installed (pip install -e '.[s3]')")
    # moto's server logs every request at INFO; keep the test output to failures.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits for the server forever, even when it failed to bind.
    starting = threading.Thread(target=server.start, daemon=True)
    starting.start()
    starting.join(START_SECONDS)
    if starting.is_alive():
        pytest.skip(f"S3 tests skipped: moto's server did not start on 127.0.0.1 "
                    f"within {START_SECONDS:.0f} s")
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """The AWS_* variables pointed at the local S3, and a new bucket in it."""
    import boto3

    for name in ("AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "EVALQL_OBJECTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # moto takes any key
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    client = boto3.client(
        "s3", endpoint_url=moto_endpoint, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    bucket = f"evalql-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3(client, bucket, moto_endpoint)
