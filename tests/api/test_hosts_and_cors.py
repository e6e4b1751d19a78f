"""The Host allow-list (against DNS rebinding) and CORS for dashboards on
other origins, as ``evalql serve`` sets them up."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.api.settings import ServeSettings
from evalql.storage.tokens import TokenStore

MODELS = {"query": "{ models { name } }"}
DASHBOARD = "https://dash.example"


def _client(store: Path, settings: ServeSettings) -> TestClient:
    return TestClient(create_app(store, settings=settings), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"])
def test_the_loopback_names_are_allowed_by_default(store: Path, host: str) -> None:
    with _client(store, ServeSettings()) as client:
        response = client.post("/graphql", json=MODELS, headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/graphql", "/healthz", "/"])
def test_another_host_is_refused_with_400(store: Path, path: str) -> None:
    with _client(store, ServeSettings()) as client:
        response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_allowed_host_adds_a_name(store: Path) -> None:
    settings = ServeSettings(allowed_hosts=("evalql.example",))
    with _client(store, settings) as client:
        allowed = client.post("/graphql", json=MODELS, headers={"Host": "evalql.example"})
        other = client.post("/graphql", json=MODELS, headers={"Host": "evil.example"})
        loopback = client.post("/graphql", json=MODELS)
    assert (allowed.status_code, other.status_code, loopback.status_code) == (200, 400, 200)


def test_the_bound_host_is_allowed(store: Path) -> None:
    settings = ServeSettings(host="192.0.2.7")
    assert settings.trusted_hosts() == ["localhost", "127.0.0.1", "[::1]", "192.0.2.7"]
    assert ServeSettings(host="::1").trusted_hosts() == ["localhost", "127.0.0.1", "[::1]"]
    with _client(store, settings) as client:
        response = client.get("/healthz", headers={"Host": "192.0.2.7:8000"})
    assert response.status_code == 200


def test_a_star_turns_the_host_check_off(store: Path) -> None:
    with _client(store, ServeSettings(allowed_hosts=("*",))) as client:
        response = client.post("/graphql", json=MODELS, headers={"Host": "evil.example"})
    assert response.status_code == 200


def _preflight(client: TestClient, origin: str) -> dict[str, str]:
    response = client.options("/graphql", headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    return {"status": str(response.status_code), **response.headers}


def test_a_preflight_from_an_allowed_origin_succeeds(store: Path) -> None:
    with _client(store, ServeSettings(cors_origins=(DASHBOARD,))) as client:
        answer = _preflight(client, DASHBOARD)
    assert answer["status"] == "200"
    assert answer["access-control-allow-origin"] == DASHBOARD
    allowed = {h.strip().lower() for h in answer["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "apollo-require-preflight",
            "x-requested-with"} <= allowed
    assert "POST" in answer["access-control-allow-methods"]


def test_a_preflight_from_another_origin_gets_no_allow_header(store: Path) -> None:
    with _client(store, ServeSettings(cors_origins=(DASHBOARD,))) as client:
        answer = _preflight(client, "https://evil.example")
    assert answer["status"] == "400"
    assert "access-control-allow-origin" not in answer


def test_without_cors_origins_a_preflight_is_not_answered(store: Path) -> None:
    with _client(store, ServeSettings()) as client:
        answer = _preflight(client, DASHBOARD)
    assert "access-control-allow-origin" not in answer


def test_answers_and_refusals_to_an_allowed_origin_carry_the_allow_header(store: Path) -> None:
    with _client(store, ServeSettings(cors_origins=(DASHBOARD,))) as client:
        answered = client.post("/graphql", json=MODELS, headers={"Origin": DASHBOARD})
        TokenStore(store).add("t", "read")
        with TestClient(create_app(store, settings=ServeSettings(cors_origins=(DASHBOARD,))),
                        base_url="http://127.0.0.1:8000") as guarded:
            refused = guarded.post("/graphql", json=MODELS, headers={"Origin": DASHBOARD})
    assert answered.headers["access-control-allow-origin"] == DASHBOARD
    # A page on the dashboard's origin can read the 401 and ask for a token.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == DASHBOARD
