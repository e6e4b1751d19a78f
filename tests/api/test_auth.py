"""Bearer tokens at the door: 401 without one once the store has any, open
otherwise; FORBIDDEN for a mutation without the right to write."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from evalql.api import auth
from evalql.api.app import create_app
from evalql.api.auth import Access, IsWriter, TokenCache, TokenGate, can_write
from evalql.storage.tokens import TokenStore

MODELS = {"query": "{ models { name } }"}


def _error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    return response.status_code, error["extensions"]["code"]


@pytest.fixture
def tokens(store: Path) -> dict[str, str]:
    """A read token and a write token in the store."""
    return {role: TokenStore(store).add(f"{role}-token", role) for role in ("read", "write")}


@pytest.fixture
def guarded(store: Path, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_with_no_token_in_the_store_queries_need_no_authorization(client: TestClient) -> None:
    response = client.post("/graphql", json=MODELS)
    assert response.json() == {"data": {"models": [{"name": "m"}]}}


def test_with_tokens_a_request_without_one_is_401_unauthenticated_with_no_data(
    guarded: TestClient,
) -> None:
    response = guarded.post("/graphql", json=MODELS)
    assert _error(response) == (401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == 'Bearer realm="evalql"'
    assert "Authorization: Bearer" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("header", ["Bearer evalql_wrong", "Bearer", "Basic dXNlcjpwdw==", ""])
def test_a_wrong_or_malformed_authorization_is_401(guarded: TestClient, header: str) -> None:
    response = guarded.post("/graphql", json=MODELS, headers={"Authorization": header})
    assert _error(response) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize("role", ["read", "write"])
def test_a_read_or_write_token_answers_queries(
    guarded: TestClient, tokens: dict[str, str], role: str
) -> None:
    response = guarded.post("/graphql", json=MODELS, headers=bearer(tokens[role]))
    assert response.json() == {"data": {"models": [{"name": "m"}]}}


def test_a_query_by_get_needs_a_token_too(guarded: TestClient, tokens: dict[str, str]) -> None:
    url = "/graphql?query={models{name}}"
    assert _error(guarded.get(url)) == (401, "UNAUTHENTICATED")
    assert guarded.get(url, headers=bearer(tokens["read"])).status_code == 200


def test_metrics_needs_a_token(guarded: TestClient, tokens: dict[str, str]) -> None:
    assert _error(guarded.get("/metrics")) == (401, "UNAUTHENTICATED")
    assert guarded.get("/metrics", headers=bearer(tokens["read"])).status_code == 200


def test_the_dashboard_static_files_healthz_and_graphiql_stay_open(guarded: TestClient) -> None:
    assert guarded.get("/healthz").json()["status"] == "ok"
    assert guarded.get("/").status_code == 200
    assert guarded.get("/static/graphiql/graphiql.min.css").status_code == 200
    page = guarded.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text


def test_a_token_added_or_revoked_applies_to_a_running_server(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "RECHECK_SECONDS", 0.0)  # else at most a second later
    with TestClient(create_app(store)) as client:
        assert client.post("/graphql", json=MODELS).status_code == 200
        keep = TokenStore(store).add("keep", "read")
        gone = TokenStore(store).add("gone", "read")
        assert _error(client.post("/graphql", json=MODELS)) == (401, "UNAUTHENTICATED")
        assert client.post("/graphql", json=MODELS, headers=bearer(gone)).status_code == 200
        TokenStore(store).revoke("gone")
        assert _error(client.post("/graphql", json=MODELS, headers=bearer(gone)))[0] == 401
        assert client.post("/graphql", json=MODELS, headers=bearer(keep)).status_code == 200


def test_tokens_are_read_again_only_after_a_second(store: Path) -> None:
    cache = TokenCache(TokenStore(store))
    assert asyncio.run(cache.roles()) == {}
    TokenStore(store).add("new", "read")
    assert asyncio.run(cache.roles()) == {}  # checked less than a second ago
    cache._checked -= auth.RECHECK_SECONDS
    assert len(asyncio.run(cache.roles()) or {}) == 1


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("ok")(scope, receive, send)


def test_a_catalog_that_cannot_be_read_refuses_rather_than_opens(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_bytes(b"not a database" * 100)
    gate = TokenGate(_ok, TokenCache(TokenStore(tmp_path)), allow_writes=False)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": [],
             "query_string": b""}
    asyncio.run(gate(scope, receive, send))
    assert sent[0]["status"] == 503


# The write policy, directly: there are no mutations in the schema yet.

@pytest.mark.parametrize(("access", "allowed"), [
    (Access("write"), True),
    (Access("read"), False),
    (Access("read", allow_writes=True), False),  # --allow-writes is for stores without tokens
    (Access(None, allow_writes=True), True),
    (Access(None), False),
])
def test_who_may_write(access: Access, allowed: bool) -> None:
    assert can_write({"type": "http", auth.SCOPE_KEY: access}) is allowed


def test_a_request_the_gate_has_not_seen_may_not_write() -> None:
    assert can_write({"type": "http"}) is False


# IsWriter through HTTP, on a schema made for this test only.

@strawberry.type
class _Query:
    ping: str = "pong"


@strawberry.type
class _Mutation:
    @strawberry.mutation(permission_classes=[IsWriter])
    def touch(self) -> bool:
        return True


def _writer_app(store: Path, allow_writes: bool) -> Starlette:
    view = GraphQL(strawberry.Schema(query=_Query, mutation=_Mutation))
    gate = Middleware(TokenGate, tokens=TokenCache(TokenStore(store)), allow_writes=allow_writes)
    return Starlette(routes=[Route("/graphql", view, methods=["POST"])], middleware=[gate])


def _touch(client: TestClient, **headers: str) -> Any:
    return client.post("/graphql", json={"query": "mutation { touch }"}, headers=headers)


def test_a_read_token_calling_a_mutation_gets_forbidden_with_http_200(
    store: Path, tokens: dict[str, str]
) -> None:
    with TestClient(_writer_app(store, allow_writes=True)) as client:
        refused = _touch(client, **bearer(tokens["read"]))
        allowed = _touch(client, **bearer(tokens["write"]))
    assert refused.status_code == 200
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "role write" in error["message"]
    assert allowed.json() == {"data": {"touch": True}}


@pytest.mark.parametrize(("allow_writes", "code"), [(False, "FORBIDDEN"), (True, None)])
def test_without_tokens_mutations_need_allow_writes(
    store: Path, allow_writes: bool, code: str | None
) -> None:
    with TestClient(_writer_app(store, allow_writes)) as client:
        body = _touch(client).json()
    assert [e["extensions"]["code"] for e in body.get("errors", ())] == ([code] if code else [])
