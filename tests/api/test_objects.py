"""GraphQL and the CLI over a store whose splits are on S3 (moto on loopback,
tests/s3.py): the same answers as a local store, nothing read from S3 after a
split's first load, a missing or damaged object is DATA_UNAVAILABLE for its
split alone, replace and delete are seen by the next query, and --objects /
EVALQL_OBJECTS on the commands."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as csv
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.cli import main
from evalql.storage.catalog import Catalog
from evalql.storage.check import check_store
from evalql.storage.ingest import PAUSE_VARIABLE, IngestOptions, ingest_table
from tests.api.conftest import small_table
from tests.s3 import S3, moto_endpoint, s3  # noqa: F401 (fixtures)

PAGE = """
    total predicted correct accuracy coverage
    precision(average: MACRO) recall(average: WEIGHTED) f1(average: MICRO)
    confusionMatrix { labels counts }
    perLabel { label precision recall f1 support tp fp fn tn }
"""
SPLITS = """{ model(name: "m") { run(name: "v1") {
    a: split(name: "a") { metrics(threshold: %(t)s) { %(page)s } }
    b: split(name: "b") { metrics(threshold: %(t)s) { %(page)s } }
} } }"""


def query(t: float = 0.5, page: str = PAGE) -> str:
    return SPLITS % {"t": t, "page": page}


def post(client: TestClient, document: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": document})
    assert response.status_code == 200, response.text
    return response.json()


def store_of(root: Path, objects: str | None) -> Path:
    for split in "ab":
        ingest_table(root, small_table(), "m", "v1", split, IngestOptions(objects=objects),
                     source="small")
    return root


@pytest.fixture
def remote(tmp_path: Path, s3: S3) -> Path:  # noqa: F811
    return store_of(tmp_path / "remote", s3.location)


@pytest.fixture
def client(remote: Path) -> Iterator[TestClient]:
    with TestClient(create_app(remote)) as c:
        yield c


def path_of(root: Path, split: str) -> str:
    info = Catalog(root).split("m", "v1", split)
    assert info is not None
    return info.path


def test_answers_from_s3_equal_the_answers_from_a_local_store(
    tmp_path: Path, client: TestClient
) -> None:
    local = store_of(tmp_path / "local", None)
    with TestClient(create_app(local)) as local_client:
        for t in (0.0, 0.5, 0.9):
            want = post(local_client, query(t))
            assert "errors" not in want
            assert post(client, query(t)) == want


def test_after_the_first_load_queries_never_read_s3(
    client: TestClient, remote: Path, s3: S3  # noqa: F811
) -> None:
    first = post(client, query(0.5))
    for split in "ab":
        s3.delete(path_of(remote, split))
    again = post(client, query(0.5))
    assert again == first
    moved = post(client, query(0.7, "total predicted"))  # a new view of the loaded splits
    assert "errors" not in moved and moved["data"]["model"]["run"]["a"]["metrics"]["total"] == 8


def test_a_fresh_server_reads_the_local_copies_without_s3(remote: Path, s3: S3) -> None:  # noqa: F811
    with TestClient(create_app(remote)) as c:
        want = post(c, query())
    for split in "ab":
        s3.delete(path_of(remote, split))
    with TestClient(create_app(remote)) as c:
        assert post(c, query()) == want


def only_a_failed(body: dict[str, Any], reason: str) -> None:
    """DATA_UNAVAILABLE errors, each under split a (one per field that needed
    its data); split b answered in the same request."""
    assert body["errors"], body
    for error in body["errors"]:
        assert error["extensions"]["code"] == "DATA_UNAVAILABLE"
        assert error["path"][:4] == ["model", "run", "a", "metrics"]
        assert "split m/v1/a" in error["message"] and reason in error["message"]
    assert "Traceback" not in str(body)
    run = body["data"]["model"]["run"]
    assert run["a"] is None and run["b"]["metrics"]["total"] == 8


def test_a_missing_object_is_data_unavailable_for_its_split_only(
    remote: Path, s3: S3  # noqa: F811
) -> None:
    s3.delete(path_of(remote, "a"))
    with TestClient(create_app(remote)) as c:
        only_a_failed(post(c, query()), "s3://")
        assert post(c, '{ models { name } }')["data"] == {"models": [{"name": "m"}]}


def test_a_damaged_object_is_data_unavailable_for_its_split_only(
    remote: Path, s3: S3  # noqa: F811
) -> None:
    path = path_of(remote, "a")
    body = bytearray(s3.get(path))
    body[-100] ^= 0x55
    s3.put(path, bytes(body))
    with TestClient(create_app(remote)) as c:
        only_a_failed(post(c, query()), "does not match its checksum")


def test_a_replaced_split_is_read_from_its_new_object(
    client: TestClient, remote: Path, s3: S3  # noqa: F811
) -> None:
    assert post(client, query(0, "total"))["data"]["model"]["run"]["a"]["metrics"]["total"] == 8
    old = path_of(remote, "a")
    three = small_table().slice(0, 3)
    ingest_table(remote, three, "m", "v1", "a", IngestOptions(replace=True), source="three")
    new = path_of(remote, "a")
    assert new != old and s3.key_of(old) not in s3.keys()
    run = post(client, query(0, "total"))["data"]["model"]["run"]
    assert run["a"]["metrics"]["total"] == 3 and run["b"]["metrics"]["total"] == 8


def test_a_deleted_split_is_gone_from_the_api_and_the_bucket(
    client: TestClient, remote: Path, s3: S3  # noqa: F811
) -> None:
    delete = pytest.importorskip("evalql.storage.delete")
    assert "errors" not in post(client, query())
    gone = path_of(remote, "a")
    delete.delete_split(remote, "m", "v1", "a")
    body = post(client, '{ model(name: "m") { run(name: "v1") { splits { name } } } }')
    assert body["data"]["model"]["run"]["splits"] == [{"name": "b"}]
    assert s3.key_of(gone) not in s3.keys() and len(s3.keys()) == 1


def test_a_split_with_scores_and_metadata_round_trips_through_s3(
    tmp_path: Path, s3: S3  # noqa: F811
) -> None:
    table = small_table().append_column(
        "scores", pa.array([[0.7, 0.2, 0.1]] * 8, pa.list_(pa.float32()))
    )
    options = IngestOptions(labels=("A", "B", "C"), objects=s3.location)
    ingest_table(tmp_path, table, "m", "v1", "a", options, source="scores")
    document = """{ model(name: "m") { run(name: "v1") { split(name: "a") {
        columns { name type }
        metrics { perLabel { label averagePrecision }
                  rows(first: 2, orderBy: ID) { nodes { id fields(names: ["channel"]) } } }
    } } } }"""
    with TestClient(create_app(tmp_path)) as c:
        body = post(c, document)
    assert "errors" not in body, body
    split = body["data"]["model"]["run"]["split"]
    assert {"name": "channel", "type": "string"} in split["columns"]
    assert split["metrics"]["rows"]["nodes"] == [
        {"id": "r0", "fields": {"channel": "email"}}, {"id": "r1", "fields": {"channel": "chat"}},
    ]
    assert [row["label"] for row in split["metrics"]["perLabel"]] == ["A", "B", "C"]


# --- the command line ----------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def csv_of(tmp_path: Path) -> Path:
    source = tmp_path / "preds.csv"
    csv.write_csv(small_table(), source)
    return source


def test_ingest_with_objects_uploads_and_later_commands_need_no_flag(
    tmp_path: Path, s3: S3, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    root, source = tmp_path / "store", csv_of(tmp_path)
    ingest = ["ingest", str(source), "--model", "m", "--run", "v1", "--data", str(root)]
    status, out, _ = run(capsys, *ingest, "--split", "a", "--objects", s3.location + "/")
    assert status == 0 and out.count("\n") == 1 and "8 rows" in out
    assert run(capsys, *ingest, "--split", "b")[0] == 0
    assert Catalog(root).setting("objects") == s3.location
    assert len(s3.keys()) == 2 and not any((root / "splits").iterdir())
    assert run(capsys, "check", "--data", str(root))[0] == 0
    status, out, _ = run(capsys, "delete", "m/v1/a", "--data", str(root))
    assert status == 0 and out == "deleted split m/v1/a (8 rows)\n" and len(s3.keys()) == 1


def test_evalql_objects_in_the_environment_is_the_flags_default(
    tmp_path: Path, s3: S3, capsys: pytest.CaptureFixture[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVALQL_OBJECTS", s3.location)
    root = tmp_path / "store"
    assert run(capsys, "init", "--data", str(root))[0] == 0
    assert Catalog(root).setting("objects") == s3.location


def test_a_location_that_is_not_s3_is_refused_in_one_line_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "store"
    status, out, err = run(capsys, "ingest", str(csv_of(tmp_path)), "--model", "m", "--run",
                           "v1", "--split", "a", "--data", str(root), "--objects", "/mnt/bucket")
    assert status == 1 and out == ""
    assert err == ("evalql ingest: --objects '/mnt/bucket' is not an object storage location: "
                   "write s3://bucket/prefix\n")
    assert not root.exists()


def test_check_lists_an_orphan_object_and_repair_removes_it(
    tmp_path: Path, s3: S3, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    root = store_of(tmp_path / "store", s3.location)
    orphan = path_of(root, "a").rsplit("/", 1)[0] + "/" + "f" * 32 + ".arrow"
    s3.put(orphan, b"left by a crash")
    status, out, _ = run(capsys, "check", "--data", str(root))
    assert status == 1 and f"orphan {orphan}: not in the catalog" in out
    status, out, _ = run(capsys, "check", "--repair", "--data", str(root))
    assert status == 0 and f"removed orphan {orphan}" in out
    assert s3.key_of(orphan) not in s3.keys()


def test_serve_records_its_objects_flag_and_warns_when_the_bucket_cannot_be_reached(
    tmp_path: Path, s3: S3, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    from evalql.api.cli import _log_objects

    catalog = Catalog(tmp_path / "store")
    with caplog.at_level(logging.INFO, logger="evalql"):
        _log_objects(catalog, s3.location)
    assert catalog.setting("objects") == s3.location
    assert f"Split files on {s3.location}" in caplog.text and "WARNING" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="evalql"):
        _log_objects(catalog, "s3://no-such-bucket/p")
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "Cannot reach s3://no-such-bucket/p" in warning.getMessage()
    assert "does not exist" in warning.getMessage()


@pytest.mark.slow
def test_an_ingest_killed_between_upload_and_commit_leaves_only_an_orphan_object(
    tmp_path: Path, s3: S3  # noqa: F811
) -> None:
    root = store_of(tmp_path / "store", s3.location)
    before = s3.keys()
    args = [sys.executable, "-m", "evalql.api.cli", "ingest", str(csv_of(tmp_path)),
            "--model", "m", "--run", "v1", "--split", "c", "--data", str(root)]
    env = os.environ | {PAUSE_VARIABLE: "commit"}  # the object is uploaded by then
    with subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as process:
        try:
            assert process.stderr.readline() == f"{PAUSE_VARIABLE}: paused at commit\n"
        finally:
            process.kill()
            process.wait()
    catalog = Catalog(root, create=False)
    assert [s.name for s in catalog.splits("m", "v1")] == ["a", "b"]
    [orphan] = sorted(set(s3.keys()) - set(before))
    ingest_id = orphan.rsplit("/", 1)[1].split(".")[0]
    problems = check_store(root).problems
    assert problems == tuple(
        f"orphan {path}: not in the catalog and no running ingest holds it"
        for path in (f"tmp/{ingest_id}.arrow", f"tmp/{ingest_id}.lock",  # staged locally
                     f"s3://{s3.bucket}/{orphan}")  # and uploaded
    )
    assert check_store(root, repair=True).healthy
    assert s3.keys() == before and list((root / "tmp").iterdir()) == []
