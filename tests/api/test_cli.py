"""The evalql command as a user runs it: ingest, models, serve."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as csv
import pytest

from evalql.api.cli import main, parser
from evalql.storage.catalog import Catalog
from evalql.storage.ingest import ingest_table
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
    listed = evalql("models", data=tmp_path / "store")
    assert listed.returncode == 1 and listed.stdout == "" and "no evalql store at" in listed.stderr
    assert not (tmp_path / "store").exists()


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
                    assert json.loads(r.read())["status"] == "ok"
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


def not_a_store(path: Path) -> str:
    return f"no evalql store at {path.resolve()} (create one with 'evalql ingest' or 'evalql demo')"


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A store with the small table as m/v1/test."""
    root = tmp_path / "store"
    ingest_table(root, small_table(), "m", "v1", "test")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """main(args) in this process: (exit status, stdout, stderr)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("command", ["models", "serve"])
@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_a_read_only_command_refuses_a_folder_that_is_not_a_store_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, folder: str
) -> None:
    data = tmp_path / folder
    if folder == "empty":
        data.mkdir()
    port = [] if command == "models" else ["--port", str(_free_port())]
    status, out, err = run(capsys, command, "--data", str(data), *port)
    assert (status, out, err) == (1, "", f"evalql {command}: {not_a_store(data)}\n")
    assert data.exists() == (folder == "empty") and not (data / "catalog.sqlite").exists()


def test_evalql_data_names_the_store_when_data_is_not_given(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVALQL_DATA", str(stored))
    assert run(capsys, "models")[:2] == (0, "m  (multiclass, 3 labels)\n  v1/test  8 rows\n")
    monkeypatch.delenv("EVALQL_DATA")
    default = tmp_path / "evalql-data"
    assert run(capsys, "models") == (1, "", f"evalql models: {not_a_store(default)}\n")
    assert not default.exists()


def test_models_says_1_row_and_1_label_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "store"
    ingest_table(root, pa.table({"actual": ["a"], "predicted": ["a"]}), "one", "r", "s")
    assert run(capsys, "models", "--data", str(root)) == (0, "one  (multiclass, 1 label)\n  r/s  1 row\n", "")


def test_models_of_an_empty_store_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Catalog(tmp_path / "store")
    status, out, err = run(capsys, "models", "--data", str(tmp_path / "store"))
    assert (status, out) == (0, "")
    assert err == f"evalql models: no models in {(tmp_path / 'store').resolve()} yet (add one with 'evalql ingest')\n"


def test_models_cut_off_by_a_closed_pipe_ends_quietly(stored: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before evalql writes, as `| head` leaves it
    try:
        done = subprocess.run(
            [*EVALQL, "models", "--data", str(stored)], stdout=write_end, stderr=subprocess.PIPE,
            text=True, timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_version_prints_the_installed_version() -> None:
    done = subprocess.run([*EVALQL, "--version"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, f"evalql {version('evalql')}\n")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    [choices] = [a.choices for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(choices)


def test_every_option_has_help_text_and_shows_its_default() -> None:
    commands = _subcommands()
    assert sorted(commands) == ["check", "delete", "demo", "ingest", "init", "models", "report", "serve",
                               "token"]
    for name, command in commands.items():
        text = " ".join(command.format_help().split())
        for action in command._actions:
            assert action.help, f"{name} {action.dest} has no help"
            if action.default not in (None, False, argparse.SUPPRESS) and not action.required:
                assert f"(default: {action.default})" in text, f"{name} {action.dest}"
            elif action.option_strings and action.dest not in ("help", "model", "run", "split"):
                assert action.help is not None and "(default: " in action.help, f"{name} {action.dest}"
    serve = " ".join(commands["serve"].format_help().split())
    assert "--port PORT port to listen on (default: 8000)" in serve
    assert "--host HOST address to listen on (default: 127.0.0.1)" in serve


def test_help_is_plain_text_without_docstring_markup() -> None:
    helps = [parser().format_help(), *(c.format_help() for c in _subcommands().values())]
    for text in helps:
        assert "``" not in text and ":func:" not in text
    assert parser().format_help().startswith("usage: evalql [-h] [--version] COMMAND ...")


def test_labels_with_spaces_around_them_are_trimmed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "preds.csv"
    csv.write_csv(small_table(), source)
    root = tmp_path / "store"
    status, out, err = run(
        capsys, "ingest", str(source), "--model", "m", "--run", "v1", "--split", "test",
        "--labels", " C, B ,A", "--data", str(root),
    )
    assert (status, err) == (0, "") and out.startswith("ingested 8 rows into m/v1/test (3 labels")
    assert Catalog(root).model("m").labels == ("C", "B", "A")


INGEST_REFUSALS = {
    "a confidence that is not a number": (
        "preds.csv", "id,actual,predicted,confidence\n1,a,a,0.5\n2,a,b,0.4\n3,b,b,high\n",
        ["--model", "m"], "{file}: column 'confidence', row 3: value 'high' is not a number",
    ),
    "a confidence beyond the float32 tolerance, at full precision": (
        "preds.csv", "actual,predicted,confidence\na,a,0.5\nb,b,1.0000123\n",
        ["--model", "m"], "{file}: column 'confidence', row 2: value 1.0000123 is outside [0, 1]",
    ),
    "a JSON array": (
        "preds.json", '[{"actual": "a", "predicted": "a"}]\n',
        ["--model", "m"], "{file}: expected JSON Lines: one object per line, not a JSON array",
    ),
    "a model name with a slash": (
        "preds.csv", "actual,predicted\na,a\n",
        ["--model", "team/m"], "{file}: the model name 'team/m' cannot contain '/'",
    ),
    "a model name longer than 200 characters": (
        "preds.csv", "actual,predicted\na,a\n",
        ["--model", "m" * 201],
        "{file}: the model name '" + "m" * 57 + "'... is 201 characters long; at most 200 are allowed",
    ),
}


@pytest.mark.parametrize("case", INGEST_REFUSALS.values(), ids=INGEST_REFUSALS.keys())
def test_ingest_refuses_bad_input_with_one_exact_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple
) -> None:
    name, content, model, expected = case
    source = tmp_path / name
    source.write_text(content)
    root = tmp_path / "store"
    status, out, err = run(
        capsys, "ingest", str(source), *model, "--run", "v1", "--split", "test", "--data", str(root)
    )
    assert (status, out, err) == (1, "", "evalql ingest: " + expected.format(file=source) + "\n")
    assert not root.exists()


def test_ingest_of_a_directory_says_it_is_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    status, out, err = run(
        capsys, "ingest", str(folder), "--model", "m", "--run", "r", "--split", "s",
        "--data", str(tmp_path / "store"),
    )
    expected = f"evalql ingest: {folder}: is a directory; give one file of predictions\n"
    assert (status, out, err) == (1, "", expected)


def test_ingest_accepts_a_float32_softmax_confidence_just_above_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "preds.csv"
    source.write_text("actual,predicted,confidence\na,a,1.0000001\nb,a,0.25\n")
    status, out, err = run(
        capsys, "ingest", str(source), "--model", "m", "--run", "r", "--split", "s",
        "--data", str(tmp_path / "store"),
    )
    assert (status, err) == (0, "") and out.startswith("ingested 2 rows into m/r/s (2 labels, ")


def test_serve_on_a_busy_port_fails_at_once_without_importing_the_app(stored: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        script = (
            "import sys; from evalql.api.cli import main; "
            f"status = main(['serve', '--port', '{port}', '--data', {str(stored)!r}]); "
            "heavy = [m for m in ('evalql.api.app', 'uvicorn', 'numba') if m in sys.modules]; "
            "print(heavy); sys.exit(status)"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (1, "[]\n")
    assert done.stderr == f"evalql serve: port {port} on 127.0.0.1 is in use; choose another with --port\n"


def test_serve_logs_the_store_its_model_count_and_the_urls_before_starting(stored: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [*EVALQL, "serve", "--data", str(stored), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(60, server.kill)  # a hung server fails the test, not the run
    watchdog.start()
    try:
        first = [server.stderr.readline() for _ in range(2)]
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()
    base = f"http://127.0.0.1:{port}"
    assert first == [
        f"INFO:     Serving the store {stored.resolve()} (1 model)\n",
        f"INFO:     GraphiQL: {base}/graphql   dashboard: {base}/\n",
    ]


@pytest.mark.parametrize(("option", "budget"), [([], None), (["--memory", "3GiB"], 3 << 30)])
def test_serve_logs_its_memory_budget_in_one_line(
    stored: Path, option: list[str], budget: int | None
) -> None:
    from evalql.storage.datasets import default_budget, physical_memory

    port = _free_port()
    server = subprocess.Popen(
        [*EVALQL, "serve", "--data", str(stored), "--port", str(port), *option],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(60, server.kill)  # a hung server fails the test, not the run
    watchdog.start()
    try:
        lines = [server.stderr.readline() for _ in range(5)]
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()
    budget = budget or default_budget()
    share = round(100 * budget / physical_memory())
    size = f"{budget / (1 << 30):.1f} GiB" if budget >= 1 << 30 else f"{budget >> 20} MiB"
    assert [line for line in lines if "Memory budget" in line] == [
        f"INFO:     Memory budget {size} ({share}% of RAM)\n"
    ]


def test_dask_options_default_to_the_backend_s_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --dask-…`` defaults are api.backends' constants (those DaskBackend
    takes), and reading them keeps the command line free of the engine."""
    from evalql.api import backends

    monkeypatch.delenv("EVALQL_DASK_FRAGMENT_ROWS", raising=False)
    monkeypatch.delenv("EVALQL_DASK_MIN_ROWS", raising=False)
    args = parser().parse_args(["serve"])
    assert args.dask_fragment_rows == backends.DEFAULT_FRAGMENT_ROWS
    assert args.dask_min_rows == backends.DEFAULT_MIN_ROWS
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, evalql.api.cli; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numba'))"],
        capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr
