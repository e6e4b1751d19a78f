"""The mutations through HTTP: ingest by multipart upload, deleteSplit,
deleteRun, deleteModel; who may call them, and how each refusal reads."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.settings import ServeSettings
from evalql.storage import upload as upload_module
from evalql.storage.catalog import TMP_DIR, Catalog
from evalql.storage.errors import StoreIOError
from evalql.storage.tokens import TokenStore
from tests.api.conftest import small_table

INGEST = """
mutation Ingest($file: Upload!, $model: String!, $run: String!, $split: String!,
                $replace: Boolean! = false, $labels: [String!], $runMeta: JSON,
                $idColumn: String! = "id", $actualColumn: String! = "actual") {
  ingest(file: $file, model: $model, run: $run, split: $split, replace: $replace,
         labels: $labels, runMeta: $runMeta, idColumn: $idColumn,
         actualColumn: $actualColumn) {
    name rowCount columns { name type }
    metrics { total correct }
  }
}
"""
SPLIT = '{ model(name: "%s") { labels run(name: "%s") { split(name: "%s") { rowCount } } } }'
PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def csv_bytes(table: pa.Table | None = None) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(small_table() if table is None else table, sink)
    return sink.getvalue()


def upload(
    client: TestClient, content: bytes, filename: str = "preds.csv",
    headers: dict[str, str] | None = None, **variables: Any,
) -> Any:
    """POST the ingest mutation with ``content`` as the file, as the GraphQL
    multipart request spec lays it out (operations, map, then the file)."""
    variables = {"model": "new", "run": "v1", "split": "test", **variables, "file": None}
    form = {
        "operations": json.dumps({"query": INGEST, "variables": variables}),
        "map": json.dumps({"0": ["variables.file"]}),
    }
    return client.post("/graphql", data=form, files={"0": (filename, content)},
                       headers=PREFLIGHT if headers is None else headers)


def _error(body: dict[str, Any]) -> tuple[str, str]:
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


@pytest.fixture
def writer(store: Path) -> Iterator[TestClient]:
    """A client of a server started with --allow-writes (its store has no token)."""
    settings = ServeSettings(allowed_hosts=("*",), allow_writes=True)
    with TestClient(create_app(store, settings=settings)) as client:
        yield client


def _query(client: TestClient, query: str, **headers: str) -> dict[str, Any]:
    return client.post("/graphql", json={"query": query}, headers=headers).json()


def test_ingest_stores_the_upload_and_returns_the_new_split(writer: TestClient, store: Path) -> None:
    answer = upload(writer, csv_bytes()).json()
    assert "errors" not in answer, answer
    split = answer["data"]["ingest"]
    assert split["name"] == "test" and split["rowCount"] == 8
    assert {"name": "channel", "type": "string"} in split["columns"]
    assert split["metrics"] == {"total": 8, "correct": 4}
    seen = _query(writer, SPLIT % ("new", "v1", "test"))["data"]["model"]
    assert seen == {"labels": ["A", "B", "C"], "run": {"split": {"rowCount": 8}}}
    assert sorted(p.name for p in (store / TMP_DIR).iterdir()) == []  # the copy is gone


def test_the_format_follows_the_file_names_extension(writer: TestClient) -> None:
    sink = io.BytesIO()
    pq.write_table(small_table(), sink)
    answer = upload(writer, sink.getvalue(), filename="PREDS.PARQUET").json()
    assert answer["data"]["ingest"]["rowCount"] == 8
    code, message = _error(upload(writer, b"x", filename="preds.txt", split="other").json())
    assert code == "BAD_USER_INPUT"
    assert message.startswith("preds.txt: unknown file type '.txt'; known: .arrow, .csv")


def test_a_bad_row_is_bad_user_input_naming_the_upload_row_and_column(
    writer: TestClient, store: Path
) -> None:
    content = b"id,actual,predicted,confidence\n1,A,A,0.5\n2,B,A,1.5\n"
    answer = upload(writer, content, filename="bad.csv").json()
    assert answer["data"] is None
    code, message = _error(answer)
    assert code == "BAD_USER_INPUT"
    assert message.startswith("bad.csv: column 'confidence', row 2: ")
    assert "1.5" in message and str(store) not in message and "upload" not in message
    assert Catalog(store).model("new") is None
    assert list((store / TMP_DIR).iterdir()) == []


def test_the_cli_options_are_arguments_with_the_same_defaults(writer: TestClient) -> None:
    renamed = small_table().rename_columns(["key", "truth", "predicted", "confidence",
                                            "channel", "length"])
    refused = upload(writer, csv_bytes(renamed)).json()
    assert _error(refused)[0] == "BAD_USER_INPUT" and "'truth'" not in _error(refused)[1]
    answer = upload(writer, csv_bytes(renamed), idColumn="key", actualColumn="truth",
                    labels=["C", "B", "A"], runMeta={"commit": "abc"}).json()
    assert answer["data"]["ingest"]["metrics"] == {"total": 8, "correct": 4}
    assert _query(writer, SPLIT % ("new", "v1", "test"))["data"]["model"]["labels"] == [
        "C", "B", "A"]


def test_an_existing_split_needs_replace(writer: TestClient) -> None:
    code, message = _error(upload(writer, csv_bytes(), model="m").json())
    assert (code, message) == ("BAD_USER_INPUT",
                               "preds.csv: split m/v1/test already exists (use --replace)")
    fewer = csv_bytes(small_table().slice(0, 3))
    answer = upload(writer, fewer, model="m", replace=True).json()
    assert answer["data"]["ingest"]["rowCount"] == 3
    assert _query(writer, SPLIT % ("m", "v1", "test"))["data"]["model"]["run"] == {
        "split": {"rowCount": 3}}


def test_a_store_that_cannot_be_written_is_store_unavailable_without_its_path(
    writer: TestClient, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: Any) -> None:
        raise StoreIOError(store.resolve(), "write", "No space left on device")

    monkeypatch.setattr(upload_module, "ingest_file", full)
    answer = upload(writer, csv_bytes()).json()
    assert _error(answer) == ("STORE_UNAVAILABLE", "cannot write the store: No space left on device")


def test_a_file_variable_that_is_not_an_upload_is_refused(writer: TestClient) -> None:
    variables = {"file": "preds.csv", "model": "new", "run": "v1", "split": "test"}
    body = writer.post("/graphql", json={"query": INGEST, "variables": variables}).json()
    code, message = _error(body)
    assert code == "BAD_USER_INPUT" and "multipart/form-data" in message


def test_a_multipart_request_without_a_preflight_header_is_400(writer: TestClient, store: Path) -> None:
    response = upload(writer, csv_bytes(), headers={})
    assert response.status_code == 400
    assert _error(response.json())[0] == "BAD_REQUEST"
    assert Catalog(store).model("new") is None


def test_an_upload_past_max_upload_is_413(store: Path) -> None:
    settings = ServeSettings(allowed_hosts=("*",), allow_writes=True, max_upload=1024)
    with TestClient(create_app(store, settings=settings)) as client:
        response = upload(client, csv_bytes() * 20)
    assert response.status_code == 413
    assert _error(response.json())[0] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("map_", [
    "[]", '{"0": "variables.file"}', '{"0": [3]}', '{"0": ["variables.nope.deeper"]}',
    '{"1": ["variables.file"]}', '{"0": ["variables.file.0.x"]}', "null",
])
def test_a_malformed_map_is_400_not_500(writer: TestClient, map_: str) -> None:
    form = {"operations": json.dumps({"query": INGEST, "variables": {"file": None}}), "map": map_}
    response = writer.post("/graphql", data=form, files={"0": ("p.csv", b"x")}, headers=PREFLIGHT)
    assert response.status_code == 400, response.text
    assert _error(response.json())[0] == "BAD_REQUEST"


def test_without_allow_writes_a_store_without_tokens_refuses_mutations(
    client: TestClient, store: Path
) -> None:
    assert _error(upload(client, csv_bytes()).json())[0] == "FORBIDDEN"
    body = _query(client, 'mutation { deleteModel(model: "m") }')
    assert body["data"] is None and _error(body)[0] == "FORBIDDEN"
    assert Catalog(store).model("m") is not None and Catalog(store).model("new") is None


def test_with_tokens_only_a_write_token_may_write(store: Path) -> None:
    read = TokenStore(store).add("reader", "read")
    write = TokenStore(store).add("writer", "write")
    with TestClient(create_app(store)) as client:
        denied = upload(client, csv_bytes(), headers={**PREFLIGHT, "Authorization": f"Bearer {read}"})
        assert _error(denied.json())[0] == "FORBIDDEN"
        allowed = upload(client, csv_bytes(), headers={**PREFLIGHT, "Authorization": f"Bearer {write}"})
        assert allowed.json()["data"]["ingest"]["rowCount"] == 8
        anonymous = upload(client, csv_bytes())
        assert anonymous.status_code == 401


def test_delete_split_run_and_model_are_seen_by_the_next_query(writer: TestClient) -> None:
    upload(writer, csv_bytes(), model="m", run="v2")
    upload(writer, csv_bytes(), model="m", run="v2", split="val")
    mutation = 'mutation { deleteSplit(model: "m", run: "v2", split: "val") }'
    assert _query(writer, mutation) == {"data": {"deleteSplit": True}}
    assert _query(writer, mutation) == {"data": {"deleteSplit": False}}
    runs = _query(writer, '{ model(name: "m") { runs { name splits { name } } } }')
    assert runs["data"]["model"]["runs"] == [
        {"name": "v1", "splits": [{"name": "test"}]}, {"name": "v2", "splits": [{"name": "test"}]}]
    assert _query(writer, 'mutation { deleteRun(model: "m", run: "v1") }') == {
        "data": {"deleteRun": True}}
    assert _query(writer, SPLIT % ("m", "v1", "test"))["data"]["model"]["run"] is None
    assert _query(writer, 'mutation { a: deleteModel(model: "m") b: deleteModel(model: "m") }') == {
        "data": {"a": True, "b": False}}
    assert _query(writer, "{ models { name } }") == {"data": {"models": []}}


def test_deleting_a_split_a_query_has_loaded_keeps_that_query_answering(
    writer: TestClient, store: Path
) -> None:
    page = '{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics { correct } } } } }'
    assert _query(writer, page)["data"]["model"]["run"]["split"]["metrics"] == {"correct": 4}
    splits = writer.app.state.store  # the server's loaded split, as a running query holds it
    data = splits.load(splits.catalog.split("m", "v1", "test"))
    assert _query(writer, 'mutation { deleteModel(model: "m") }')["data"] == {"deleteModel": True}
    assert data.ids.to_pylist() == [f"r{i}" for i in range(8)]  # still mapped, still read
    assert _query(writer, page) == {"data": {"model": None}}
