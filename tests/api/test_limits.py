"""The bounds of api/limits.py: lists in variables are refused at once past them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalql.api import limits
from tests.api.conftest import Query

METRICS = """
query ($labels: [String!], $where: [RowFilter!]) {
  model(name: "m") { run(name: "v1") { split(name: "test") {
    metrics(labels: $labels, where: $where) { total }
  } } }
}
"""


def _error(body: dict[str, Any]) -> tuple[str, str]:
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


def test_65_where_conditions_are_refused_with_bad_user_input(gql: Query) -> None:
    where = [{"column": "length", "gte": 0}] * 65
    body = gql(METRICS, where=where)
    assert body["data"]["model"]["run"]["split"] is None
    assert _error(body) == ("BAD_USER_INPUT", "where has 65 conditions; the limit is 64")


def test_64_where_conditions_are_answered(gql: Query) -> None:
    where = [{"column": "length", "gte": 0}] * 64
    body = gql(METRICS, where=where)
    assert "errors" not in body
    assert body["data"]["model"]["run"]["split"]["metrics"]["total"] == 8


def test_more_than_10000_in_values_over_all_conditions_are_refused(gql: Query) -> None:
    values = [f"v{i}" for i in range(5_001)]
    where = [{"column": "channel", "in": values}, {"column": "channel", "in": values}]
    body = gql(METRICS, where=where)
    assert _error(body) == (
        "BAD_USER_INPUT", "where has 10,002 `in` values in all; the limit is 10,000"
    )


def test_10000_in_values_are_answered(gql: Query) -> None:
    values = ["email", *(f"v{i}" for i in range(9_999))]
    body = gql(METRICS, where=[{"column": "channel", "in": values}])
    assert body["data"]["model"]["run"]["split"]["metrics"]["total"] == 4


def test_a_labels_list_longer_than_the_models_labels_is_refused(gql: Query) -> None:
    body = gql(METRICS, labels=["A", "B", "C", "A"])
    assert _error(body) == (
        "BAD_USER_INPUT", "labels has 4 labels; the limit is 3 (the model has 3)"
    )


def test_a_million_labels_are_refused_without_looking_each_up(gql: Query) -> None:
    body = gql(METRICS, labels=["A"] * 100_000)
    assert _error(body)[0] == "BAD_USER_INPUT"
    assert "the limit is 3" in _error(body)[1]


def test_no_module_but_limits_declares_a_bound_or_writes_out_the_dense_test() -> None:
    # Every bound is declared once, in api/limits.py, and the dense-matrix
    # test is its is_dense(k): no copy can drift from the README's table.
    api = Path(__file__).parents[2] / "api"
    names = [name for name in vars(limits) if name.startswith("MAX_")]
    for path in api.rglob("*.py"):
        if path.name == "limits.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name in names:
            assert f"{name} =" not in text, f"{path.name} declares {name}"
        assert " + 1) ** 2" not in text, f"{path.name} writes out the dense-matrix test"


def test_the_table_of_limits_names_every_bound_with_its_answer() -> None:
    table = limits.markdown_table()
    assert table.count("\n") == len(limits.LIMITS) + 1
    assert "| `where` conditions | 64 | BAD_USER_INPUT |" in table
    assert "| request body (JSON) | 1 MiB | HTTP 413 PAYLOAD_TOO_LARGE |" in table


def test_the_readme_shows_the_table_of_limits_as_the_list_makes_it() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert limits.markdown_table() in readme, "run python -m evalql.api.limits, paste into README"
