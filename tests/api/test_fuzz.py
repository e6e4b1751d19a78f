"""Fuzzing: schemathesis generates GraphQL documents from the live schema
(every query and mutation field, with generated arguments and selections) and
sends them to a real `evalql serve` on loopback. No answer may be a 5xx or
carry a traceback or an unexpected (masked) error, the server's log must show
no traceback, and the server must still say ok afterwards.

Bounded and repeatable: a fixed number of examples per root field, drawn
with a fixed seed (``derandomize``), no shrinking, no example database; it
needs no network beyond 127.0.0.1. About 300 requests in all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from evalql.storage.ingest import ingest_table
from tests.api.conftest import small_table
from tests.api.live import Live, serving

# Seven root fields (models, model, compare, ingest, deleteSplit, deleteRun,
# deleteModel): ~300 generated requests, about a minute on 2 cores.
EXAMPLES_PER_FIELD = 45

# The scalars schemathesis cannot generate by itself. An Upload can only be
# sent as a multipart part, so in a JSON document it is any value; the server
# has to refuse it as bad input.
schemathesis.graphql.scalar("Upload", st.sampled_from(["preds.csv", ""]).map(nodes.String))
schemathesis.graphql.scalar("JSON", st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(nodes.Int),
    st.text(max_size=20).map(nodes.String),
    st.booleans().map(nodes.Boolean),
))


def _store(root: Path) -> Path:
    """Generated strings are short and often "0": a model, run and split of
    that name let generated queries reach real splits, not only absences."""
    ingest_table(root, small_table(), "0", "0", "0")
    ingest_table(root, small_table(), "m", "v1", "test")
    ingest_table(root, small_table(), "0", "1", "0")
    return root


def _problem(response: Any) -> str | None:
    """What is wrong with one answer, or None."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if "Traceback" in response.text:
        return "a traceback in the answer"
    try:
        body = json.loads(response.text)
    except ValueError:
        return "an answer that is not JSON"
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    if "INTERNAL_SERVER_ERROR" in codes:
        return "an unexpected (masked) error"
    return None


def _fuzz(live: Live) -> tuple[int, list[str]]:
    """Every root field's generated cases against ``live``: (requests sent, problems)."""
    schema = schemathesis.graphql.from_url(f"{live.base}/graphql", timeout=30)
    sent = 0
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_FIELD, derandomize=True, database=None,
                  deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def send(case: Any) -> None:
            nonlocal sent
            response = case.call(timeout=60)
            sent += 1
            problem = _problem(response)
            if problem is not None:
                problems.append(f"{problem}: {case.body!r} -> {response.text[:500]}")

        send()
    return sent, problems


@pytest.mark.slow
def test_generated_documents_get_no_5xx_no_traceback_and_the_server_lives_on(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path / "store")
    # --allow-writes: the mutations' resolvers are fuzzed too, not only refused.
    with serving(store, tmp_path / "serve.log", "--allow-writes") as live:
        sent, problems = _fuzz(live)
        status, health = live.healthz()
    assert problems == [], "\n".join(problems[:10])
    assert 250 <= sent <= 7 * EXAMPLES_PER_FIELD
    assert status == 200 and health["status"] == "ok"
    log = live.log_text()
    assert "Traceback" not in log, log[log.index("Traceback") - 2000:][:6000]
