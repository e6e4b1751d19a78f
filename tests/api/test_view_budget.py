"""The run-time budget of views per request: what the static cost cannot see.

The static estimate (api/cost.py) is an upper bound read off the document,
but what it cannot see (a request's views, as they are made) is counted as
it runs too: each request may create at most ``limits.MAX_VIEWS``; past that
it is refused with COST_LIMIT as it runs, instead of computing them all.
"""

from __future__ import annotations

import pytest

from evalql.api import limits
from tests.api.conftest import Query

SLICES = """{ model(name: "m") { run(name: "v1") { split(name: "test") {
    metrics { breakdown(column: "channel") { key metrics { total } } } } } } }"""


def test_a_breakdown_within_the_view_budget_answers(gql: Query) -> None:
    body = gql(SLICES)
    assert "errors" not in body, body
    slices = body["data"]["model"]["run"]["split"]["metrics"]["breakdown"]
    assert sorted((s["key"], s["metrics"]["total"]) for s in slices) == [
        ("chat", 4), ("email", 4),
    ]


def test_a_request_creating_more_views_than_the_budget_is_refused_as_it_runs(
    gql: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The view and its two channel slices are 3 views; the static estimate
    # (2,003) passes, the budget of 2 stops it.
    monkeypatch.setattr(limits, "MAX_VIEWS", 2)
    body = gql(SLICES)
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"COST_LIMIT"}
    assert "more than 2 views" in body["errors"][0]["message"]
