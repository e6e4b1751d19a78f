"""The run-time budgets of a request, views and rows scanned: what the static cost cannot see.

The static estimate (api/cost.py) is an upper bound read off the document,
but what it cannot see (a request's views, as they are made) is counted as
it runs too: each request may create at most ``limits.MAX_VIEWS``; past that
it is refused with COST_LIMIT as it runs, instead of computing them all.
"""

from __future__ import annotations

import pytest

from evalql.api import limits, split_cache
from tests.api.conftest import Query

SPLIT_OF = '{ model(name: "m") { run(name: "v1") { split(name: "test") { %s } } } }'
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


# Five filters, each one scan of the 8 rows (a filter asked for once is tested
# inside the scan; its mask, built from its second use on, would count 8 more).
FILTERS = SPLIT_OF % " ".join(
    f'f{n}: metrics(where: [{{column: "length", gte: {10 * n}}}]) {{ total accuracy }}'
    for n in range(5)
)


def test_a_request_scanning_more_rows_than_the_budget_is_refused_as_it_runs(
    gql: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(split_cache, "MODE", "scan")  # no index: every view scans
    monkeypatch.setattr(limits, "MAX_ROWS_SCANNED", 30)
    body = gql(FILTERS)
    assert {e["extensions"]["code"] for e in body["errors"]} == {"COST_LIMIT"}
    assert "more than 30 rows" in body["errors"][0]["message"]
    # The same five filters in requests of their own are each within it.
    for n in range(5):
        one = SPLIT_OF % f'metrics(where: [{{column: "length", gte: {10 * n + 1}}}]) {{ total }}'
        assert "errors" not in gql(one)


def test_a_scan_within_the_rows_budget_answers(
    gql: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(split_cache, "MODE", "scan")
    monkeypatch.setattr(limits, "MAX_ROWS_SCANNED", 40)  # 5 x 8
    body = gql(FILTERS)
    assert "errors" not in body, body
    totals = [body["data"]["model"]["run"]["split"][f"f{n}"]["total"] for n in range(5)]
    assert totals == [8, 8, 7, 6, 5]  # length >= 0, 10, 20, 30, 40
