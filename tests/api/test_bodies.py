"""Request bodies: bounded before they are read, and malformed ones answered 400."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from evalql.api.app import create_app
from evalql.api.bodies import BodyGuard, too_deep
from evalql.api.settings import ServeSettings

MIB = 1 << 20


def _error(response: Any) -> tuple[int, str, str]:
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    return response.status_code, error["extensions"]["code"], error["message"]


def test_a_body_over_1_mib_is_refused_with_413(client: TestClient) -> None:
    query = '{ model(name: "%s") { name } }' % ("x" * MIB)
    response = client.post("/graphql", json={"query": query})
    assert _error(response) == (
        413, "PAYLOAD_TOO_LARGE", "a request body may have at most 1,048,576 bytes"
    )


def test_a_body_just_under_1_mib_is_answered(client: TestClient) -> None:
    query = '{ model(name: "%s") { name } }' % ("x" * (MIB - 100))
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200 and response.json() == {"data": {"model": None}}


def test_the_body_limit_follows_the_settings(store: Path) -> None:
    app = create_app(store, settings=ServeSettings(allowed_hosts=("*",), max_body=1000))
    with TestClient(app) as client:
        small = client.post("/graphql", json={"query": "{ models { name } }"})
        big = client.post("/graphql", json={"query": "{ models { name } }" + " " * 1000})
    assert small.status_code == 200
    assert _error(big)[:2] == (413, "PAYLOAD_TOO_LARGE")


async def _echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that reads its body whole, as Strawberry's view does."""
    body = await Request(scope, receive).body()
    await JSONResponse({"length": len(body)})(scope, receive, send)


def _drive(guard: BodyGuard, headers: list[tuple[bytes, bytes]], chunks: int,
           chunk: int) -> tuple[list[Message], int]:
    """Feed ``chunks`` chunks of ``chunk`` bytes (no Content-Length, as a
    chunked upload); return what the guard sent and how many chunks it took."""
    taken = 0

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": b"x" * chunk, "more_body": taken < chunks}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers,
             "query_string": b""}
    asyncio.run(guard(scope, receive, send))
    return sent, taken


def test_a_chunked_body_stops_being_read_once_past_the_limit() -> None:
    guard = BodyGuard(_echo_length, max_body=MIB, max_upload=8 * MIB)
    headers = [(b"content-type", b"application/json")]
    sent, taken = _drive(guard, headers, chunks=1_000, chunk=64 << 10)  # 64 MB offered
    assert sent[0]["status"] == 413
    assert taken == 17  # 16 chunks are exactly 1 MiB; the 17th passes it


def test_a_declared_length_over_the_limit_is_refused_without_reading() -> None:
    guard = BodyGuard(_echo_length, max_body=MIB, max_upload=8 * MIB)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2000000")]
    sent, taken = _drive(guard, headers, chunks=1, chunk=10)
    assert (sent[0]["status"], taken) == (413, 0)


def test_multipart_uploads_get_their_own_larger_limit() -> None:
    guard = BodyGuard(_echo_length, max_body=MIB, max_upload=4 * MIB)
    headers = [(b"content-type", b"multipart/form-data; boundary=x"),
               (b"apollo-require-preflight", b"true")]
    sent, _ = _drive(guard, headers, chunks=48, chunk=64 << 10)  # 3 MiB
    assert sent[0]["status"] == 200
    sent, taken = _drive(guard, headers, chunks=1_000, chunk=64 << 10)
    assert (sent[0]["status"], taken) == (413, 65)


def test_a_multipart_request_without_a_preflight_header_is_refused(client: TestClient) -> None:
    response = client.post("/graphql", files={"file": ("a.csv", b"id\n1\n")})
    assert _error(response) == (
        400, "BAD_REQUEST",
        "a multipart request has to carry an Apollo-Require-Preflight or X-Requested-With header",
    )


DEEP = b"[" * 100 + b"]" * 100
MALFORMED = {
    "invalid UTF-8": b'{"query": "{ models { name } }\xff\xfe"}',
    "null": b"null",
    "a string": b'"{ models { name } }"',
    "an array": b'[{"query": "{ models { name } }"}]',
    "a number": b"12",
    "nested 100 deep": b'{"query": "{ models { name } }", "variables": {"x": ' + DEEP + b"}}",
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "not JSON": b"{query: models}",
    "empty": b"",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_400_bad_request_and_logs_no_traceback(
    client: TestClient, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    status, code, message = _error(response)
    assert (status, code) == (400, "BAD_REQUEST"), message
    assert "Traceback" not in response.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_malformed_answers_say_what_is_wrong(client: TestClient) -> None:
    def message(body: bytes) -> str:
        response = client.post("/graphql", content=body,
                               headers={"content-type": "application/json"})
        return _error(response)[2]

    assert message(b"null") == (
        "a GraphQL request is a JSON object (query, variables, operationName), not null"
    )
    assert message(b"[]") == (
        "a GraphQL request is a JSON object (query, variables, operationName), not an array"
    )
    assert message(MALFORMED["nested 100 deep"]) == "the JSON nests deeper than 32 levels"
    assert message(b"\xff").startswith("the body is not valid JSON: ")


def test_a_large_body_is_decoded_in_a_thread_with_the_same_answers(client: TestClient) -> None:
    padding = " " * (100 << 10)  # past OFF_LOOP_BYTES
    ok = client.post("/graphql", content=b'{"query": "{ models { name } }"}' + padding.encode(),
                     headers={"content-type": "application/json"})
    assert ok.json() == {"data": {"models": [{"name": "m"}]}}
    bad = client.post("/graphql", content=b"null" + padding.encode(),
                      headers={"content-type": "application/json"})
    assert _error(bad)[:2] == (400, "BAD_REQUEST")


def test_other_refusals_of_the_graphql_view_are_graphql_shaped_too(client: TestClient) -> None:
    plain = client.post("/graphql", content=b"{ models { name } }",
                        headers={"content-type": "text/plain"})
    assert _error(plain) == (400, "BAD_REQUEST", "Unsupported content type")
    no_query = client.post("/graphql", json={"variables": {}})
    assert _error(no_query)[:2] == (400, "BAD_REQUEST")


def test_a_bad_content_length_is_400(client: TestClient) -> None:
    guard = BodyGuard(_echo_length, max_body=MIB, max_upload=MIB)
    sent, _ = _drive(guard, [(b"content-length", b"12x")], chunks=1, chunk=1)
    assert sent[0]["status"] == 400


def test_nesting_is_measured_without_recursion() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert too_deep(deep)
    assert not too_deep({"a": [{"b": [1, 2]}]}, most=4)
    assert too_deep({"a": [{"b": [1, 2]}]}, most=3)
