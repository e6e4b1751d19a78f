"""The evalql command as a user runs it: ingest, models, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.csv as csv

from tests.api.conftest import small_table

EVALQL = [sys.executable, "-m", "evalql.api.cli"]


def evalql(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EVALQL, *args, "--data", str(data)], capture_output=True, text=True, timeout=120
    )


def test_ingest_prints_one_line_and_models_lists_it(tmp_path: Path) -> None:
    source = tmp_path / "preds.csv"
    csv.write_csv(small_table(), source)
    done = evalql("ingest", str(source), "--model", "m", "--run", "v1", "--split", "test", data=tmp_path / "store")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "8 rows" in done.stdout and "m/v1/test" in done.stdout
    listed = evalql("models", data=tmp_path / "store")
    assert "m  (multiclass, 3 labels)" in listed.stdout and "v1/test  8 rows" in listed.stdout


def test_bad_input_exits_non_zero_with_one_line_naming_file_column_and_row(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("id,actual,predicted,confidence\n1,A,A,0.5\n2,B,A,1.5\n")
    done = evalql("ingest", str(source), "--model", "m", "--run", "v1", "--split", "test", data=tmp_path / "store")
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert "bad.csv" in line and "confidence" in line and "row 2" in line and "1.5" in line
    assert evalql("models", data=tmp_path / "store").stdout == ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_serve_answers_concurrent_queries_over_http(tmp_path: Path) -> None:
    source = tmp_path / "preds.csv"
    csv.write_csv(small_table(), source)
    store = tmp_path / "store"
    assert evalql("ingest", str(source), "--model", "m", "--run", "v1", "--split", "test", data=store).returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*EVALQL, "serve", "--data", str(store), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.loads(r.read()) == {"status": "ok"}
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        queries = [
            '{ model(name: "m") { run(name: "v1") { split(name: "test") { metrics(threshold: %s) { correct total } } } } }' % t
            for t in (0, 0.5, 0.65, 0.9) * 5
        ]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda q: _post(port, q), queries))
        correct = [a["data"]["model"]["run"]["split"]["metrics"]["correct"] for a in answers]
        assert correct == [4, 2, 2, 1] * 5
    finally:
        server.terminate()
        server.wait(timeout=30)
