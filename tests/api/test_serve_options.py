"""evalql serve's options for hosts, origins, writes and body limits, and
evalql token as a user runs it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from evalql.api.cli import main, parser
from evalql.api.settings import ServeSettings, from_arguments, parse_bytes
from evalql.storage.ingest import ingest_table
from evalql.storage.tokens import TokenStore
from tests.api.conftest import small_table


@pytest.mark.parametrize(("text", "size"), [
    ("1048576", 1 << 20), ("1MiB", 1 << 20), ("1m", 1 << 20), ("1 MiB", 1 << 20),
    ("512KiB", 512 << 10), ("2GiB", 2 << 30), ("1MB", 10**6), ("1.5KiB", 1536),
])
def test_sizes_are_bytes_with_an_optional_unit(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "1XB", "-1", "0", "1 MiB extra"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes(text)


def _settings(*argv: str) -> ServeSettings:
    return from_arguments(parser().parse_args(["serve", *argv]))


def test_serve_defaults_are_loopback_1_mib_2_gib_no_origins_no_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("EVALQL_MAX_BODY", "EVALQL_MAX_UPLOAD", "EVALQL_ALLOW_WRITES",
                 "EVALQL_CORS_ORIGIN", "EVALQL_ALLOWED_HOST"):
        monkeypatch.delenv(name, raising=False)
    assert _settings() == ServeSettings()
    assert ServeSettings().trusted_hosts() == ["localhost", "127.0.0.1", "[::1]"]


def test_every_option_sets_its_setting() -> None:
    settings = _settings(
        "--host", "0.0.0.0", "--allowed-host", "evalql.example", "--allowed-host", "*.corp.example",
        "--cors-origin", "https://dash.example", "--allow-writes",
        "--max-body", "4MiB", "--max-upload", "10GiB",
    )
    assert settings == ServeSettings(
        host="0.0.0.0", allowed_hosts=("evalql.example", "*.corp.example"),
        cors_origins=("https://dash.example",), allow_writes=True,
        max_body=4 << 20, max_upload=10 << 30,
    )


def test_every_option_reads_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALQL_MAX_BODY", "2MiB")
    monkeypatch.setenv("EVALQL_MAX_UPLOAD", "1GiB")
    monkeypatch.setenv("EVALQL_ALLOW_WRITES", "1")
    monkeypatch.setenv("EVALQL_CORS_ORIGIN", "https://a.example, https://b.example:8443")
    monkeypatch.setenv("EVALQL_ALLOWED_HOST", "evalql.example")
    settings = _settings()
    assert (settings.max_body, settings.max_upload, settings.allow_writes) == (
        2 << 20, 1 << 30, True
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example:8443")
    assert settings.allowed_hosts == ("evalql.example",)
    # An option on the command line replaces its variable.
    assert _settings("--cors-origin", "https://c.example").cors_origins == ("https://c.example",)


@pytest.mark.parametrize(("argv", "message"), [
    (["--cors-origin", "https://dash.example/"], "is not an origin"),
    (["--cors-origin", "dash.example"], "is not an origin"),
    (["--allowed-host", "evalql.example:8000"], "is not a host name"),
    (["--allowed-host", "https://evalql.example"], "is not a host name"),
    (["--allowed-host", "a*.example"], "is not a host name"),
])
def test_a_bad_origin_or_host_is_refused_with_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(*argv)


def test_a_bad_size_stops_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(["serve", "--max-body", "lots"])
    assert exit_.value.code == 2
    assert "'lots' is not a size" in capsys.readouterr().err


def test_serve_help_shows_each_default() -> None:
    [serve] = [a.choices["serve"] for a in parser()._actions if hasattr(a, "choices")
               and isinstance(a.choices, dict) and "serve" in a.choices]
    text = " ".join(serve.format_help().split())
    assert "(default: 1MiB)" in text and "(default: 2GiB)" in text
    assert "(default: off, or $EVALQL_ALLOW_WRITES=1)" in text
    assert "(default: localhost, 127.0.0.1, [::1] and --host;" in text
    assert "(default: none; $EVALQL_CORS_ORIGIN, comma-separated)" in text


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    ingest_table(root, small_table(), "m", "v1", "test")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_token_add_prints_the_token_alone_once(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "token", "add", "ci", "--role", "write", "--data", str(stored))
    [token] = out.splitlines()
    assert status == 0 and token.startswith("evalql_")
    assert "made 'ci' (write); it is shown only this once" in err
    status, out, err = run(capsys, "token", "list", "--data", str(stored))
    assert status == 0 and token not in out
    [line] = out.splitlines()
    assert line.startswith("ci  write  ") and line.endswith(" UTC")


def test_token_list_of_a_store_without_tokens_says_reads_are_open(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "token", "list", "--data", str(stored))
    assert (status, out) == (0, "")
    assert "no tokens in" in err and "answers anyone who can reach it" in err


def test_token_revoke_and_its_refusals_are_one_line(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "token", "add", "ci", "--data", str(stored))
    assert run(capsys, "token", "revoke", "ci", "--data", str(stored)) == (0, "revoked 'ci'\n", "")
    status, out, err = run(capsys, "token", "revoke", "ci", "--data", str(stored))
    assert (status, out, err) == (1, "", "evalql token: there is no token called 'ci'\n")


def test_token_commands_refuse_a_folder_that_is_not_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "token", "add", "ci", "--data", str(tmp_path / "none"))
    assert (status, out) == (1, "")
    assert err.startswith("evalql token: no evalql store at ")
    assert not (tmp_path / "none").exists()


def _request(url: str, body: bytes | None = None, **headers: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={
        "content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text.startswith(b"{") else {}


@pytest.mark.slow
def test_evalql_serve_applies_its_options_over_http(stored: Path, tmp_path: Path) -> None:
    token = TokenStore(stored).add("ci", "read")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "evalql.api.cli", "serve", "--data", str(stored),
             "--port", str(port), "--allowed-host", "evalql.test", "--max-body", "2KiB"],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    query = json.dumps({"query": "{ models { name } }"}).encode()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        status, body = _request(f"{base}/graphql", query)
        assert (status, body["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")
        auth = {"Authorization": f"Bearer {token}"}
        assert _request(f"{base}/graphql", query, **auth) == (200, {"data": {"models": [{"name": "m"}]}})
        assert _request(f"{base}/graphql", query, Host="evalql.test", **auth)[0] == 200
        assert _request(f"{base}/graphql", query, Host="evil.example", **auth)[0] == 400
        big = json.dumps({"query": "{ models { name } }" + " " * 3000}).encode()
        status, body = _request(f"{base}/graphql", big, **auth)
        assert (status, body["errors"][0]["extensions"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "1 token: /graphql and /metrics need a bearer token" in text
    assert "operation=- status=401" in text and "status=413" in text
    assert "Traceback" not in text
