"""/metrics for Prometheus and the access log: one line per GraphQL request."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from evalql.api import observability
from evalql.api.app import create_app
from evalql.api.observability import GraphQLLinesOnce, Metrics, operation_label
from evalql.storage.datasets import SplitStore

PAGE = """query Page {
  model(name: "m") { run(name: "v1") { split(name: "test") {
    metrics { correct precision confusionMatrix { counts } }
  } } }
}"""


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_requests_are_counted_by_operation_and_status(client: TestClient) -> None:
    client.post("/graphql", json={"query": PAGE})
    client.post("/graphql", json={"query": PAGE})
    client.post("/graphql", json={"query": "{ models { name } }"})
    client.post("/graphql", content=b"null", headers={"content-type": "application/json"})
    found = samples(client)
    count = "evalql_graphql_requests_total"
    assert found[(count, (("operation", "Page"), ("status", "200")))] == 2
    assert found[(count, (("operation", "-"), ("status", "200")))] == 1
    assert found[(count, (("operation", "-"), ("status", "400")))] == 1
    latency = "evalql_graphql_request_seconds_count"
    assert found[(latency, (("operation", "Page"), ("status", "200")))] == 2


def test_engine_seconds_and_cache_bytes_grow_with_a_computed_page(client: TestClient) -> None:
    before = samples(client)
    assert before[("evalql_engine_seconds_total", ())] == 0
    assert before[("evalql_cache_bytes", (("kind", "splits"),))] == 0
    client.post("/graphql", json={"query": PAGE})
    after = samples(client)
    assert after[("evalql_engine_seconds_total", ())] > 0
    assert after[("evalql_cache_bytes", (("kind", "splits"),))] > 0
    queues = {labels for name, labels in after if name == "evalql_background_queue_length"}
    assert queues == {(("queue", "threshold-index"),), (("queue", "label-set-index"),)}


def test_each_app_counts_on_its_own(store: Path) -> None:
    with TestClient(create_app(store)) as first, TestClient(create_app(store)) as second:
        first.post("/graphql", json={"query": PAGE})
        key = ("evalql_graphql_requests_total", (("operation", "Page"), ("status", "200")))
        assert samples(first)[key] == 1
        assert key not in samples(second)


class _Compiler:
    def state(self) -> dict[str, int]:
        return {"ready": 3, "total": 7}


def test_the_kernel_compile_state_is_reported_when_serving_with_a_compiler(
    tmp_path: Path,
) -> None:
    metrics = Metrics(SplitStore(tmp_path), _Compiler())  # type: ignore[arg-type]
    values = {s.name: s.value for f in metrics.registry.collect() for s in f.samples}
    assert (values["evalql_kernel_groups_ready"], values["evalql_kernel_groups_total"]) == (3, 7)
    without = Metrics(SplitStore(tmp_path))
    assert "evalql_kernel_groups_ready" not in {
        s.name for f in without.registry.collect() for s in f.samples
    }


def test_operation_names_are_names_and_their_number_is_capped(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert operation_label("Page") == "Page"
    assert operation_label(None) == "-"
    assert operation_label('x"}\nfake_metric 1') == "invalid"
    monkeypatch.setattr(observability, "MAX_OPERATION_NAMES", 2)
    for name in ("A", "B", "C", "D"):
        client.post("/graphql", json={"query": "query %s { models { name } }" % name})
    operations = {dict(labels)["operation"] for name, labels in samples(client)
                  if name == "evalql_graphql_requests_total"}
    assert operations == {"A", "B", "other"}


ACCESS = re.compile(
    r"operation=(\S+) status=(\d+) duration_ms=\d+\.\d engine_ms=\d+\.\d cost=(\S+) client=(\S+)"
)


def test_every_graphql_request_writes_one_access_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="evalql.access"):
        client.post("/graphql", json={"query": PAGE})
        client.post("/graphql", json={"query": "{ models { name } }"})
        client.post("/graphql", content=b"[]", headers={"content-type": "application/json"})
        client.get("/healthz")
    lines = [r.getMessage() for r in caplog.records if r.name == "evalql.access"]
    assert len(lines) == 3
    fields = [ACCESS.fullmatch(line) for line in lines]
    assert all(fields), lines
    assert [f.groups() for f in fields if f] == [
        ("Page", "200", "1", "testclient"),  # one view
        ("-", "200", "0", "testclient"),
        ("-", "400", "-", "testclient"),
    ]
    engine_ms = float(re.search(r"engine_ms=(\S+)", lines[0]).group(1))  # type: ignore[union-attr]
    assert engine_ms > 0


def test_a_refused_request_is_logged_and_counted_too(
    store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from evalql.storage.tokens import TokenStore

    token = TokenStore(store).add("t", "read")
    with TestClient(create_app(store)) as client, caplog.at_level(logging.INFO):
        client.post("/graphql", json={"query": PAGE})
        found = samples_with(client, token)
    [line] = [r.getMessage() for r in caplog.records if r.name == "evalql.access"]
    assert line.startswith("operation=- status=401 ")
    key = ("evalql_graphql_requests_total", (("operation", "-"), ("status", "401")))
    assert found[key] == 1


def samples_with(client: TestClient, token: str) -> dict:
    client.headers["Authorization"] = f"Bearer {token}"
    return samples(client)


def test_log_lines_are_written_by_a_thread_of_their_own_with_uvicorn_s_formatting() -> None:
    import io
    import threading

    from uvicorn.logging import AccessFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s',
                                         use_colors=False))
    logger = logging.getLogger("evalql.test.access")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    written_by: list[str] = []
    emit = handler.emit
    handler.emit = lambda record: (written_by.append(threading.current_thread().name),  # type: ignore[method-assign]
                                   emit(record))
    try:
        [listener] = observability.log_off_the_loop(("evalql.test.access",))
        # uvicorn's access line: its formatter reads the record's args.
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/healthz", "1.1", 200)
        listener.stop()  # waits for the queue to drain
    finally:
        logger.handlers.clear()
    assert out.getvalue() == '127.0.0.1:5 "GET /healthz HTTP/1.1" 200 OK\n'
    assert written_by and written_by[0] != threading.current_thread().name


def test_uvicorn_writes_no_second_access_line_for_graphql() -> None:
    # uvicorn's access record: (client, method, path with query, HTTP version, status)
    def record(path: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.access", logging.INFO, "h11_impl.py", 1,
                                 '%s - "%s %s HTTP/%s" %d',
                                 ("127.0.0.1:5000", "POST", path, "1.1", 200), None)

    lines = GraphQLLinesOnce()
    assert not lines.filter(record("/graphql"))
    assert not lines.filter(record("/graphql?query=%7Bmodels%7D"))
    assert lines.filter(record("/healthz")) and lines.filter(record("/graphql-docs"))
    assert lines.filter(logging.LogRecord("uvicorn.access", logging.INFO, "x", 1, "odd", None,
                                          None))
