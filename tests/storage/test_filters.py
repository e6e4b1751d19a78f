"""row_mask: every condition part on every filterable column type."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from evalql.storage.filters import (
    Condition,
    FilterError,
    RangeTest,
    code_test,
    range_test,
    row_mask,
)

EPOCH_2024 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
DAY = 86_400


@pytest.fixture
def table() -> pa.Table:
    return pa.table({
        "region": pa.array(["eu", "us", None, "apac", "eu"]),
        "channel": pa.array(["chat", "mail", "chat", None, "mail"]).dictionary_encode(),
        "tokens": pa.array([3, 10, None, 7, 10], pa.int32()),
        "score": pa.array([0.5, 1.5, 2.5, None, -1.0]),
        "flagged": pa.array([True, False, None, True, False]),
        "at": pa.array(
            [EPOCH_2024 * 1000 + i * DAY * 1000 if i != 2 else None for i in range(5)],
            pa.timestamp("ms", tz="UTC"),
        ),
        "day": pa.array([date(2024, 1, 1 + i) if i != 4 else None for i in range(5)]),
        "tags": pa.array([["a"], [], None, ["b"], ["a", "b"]]),
    })


def mask(table: pa.Table, *conditions: Condition) -> list[bool]:
    result = row_mask(table, conditions)
    assert isinstance(result, np.ndarray) and result.dtype == np.bool_
    return result.tolist()


def test_no_conditions_means_no_mask(table: pa.Table) -> None:
    assert row_mask(table, []) is None


def test_in_on_a_string_column_compares_strings(table: pa.Table) -> None:
    assert mask(table, Condition("region", isin=("eu", "apac"))) == [True, False, False, True, True]


def test_in_on_a_dictionary_column_compares_values(table: pa.Table) -> None:
    assert mask(table, Condition("channel", isin=("chat",))) == [True, False, True, False, False]


def test_in_on_an_int_column_parses_numbers(table: pa.Table) -> None:
    condition = Condition("tokens", isin=("10", "7.0", "3.5", "99999999999"))
    assert mask(table, condition) == [False, True, False, True, True]


def test_in_on_a_float_column_parses_numbers(table: pa.Table) -> None:
    assert mask(table, Condition("score", isin=("1.5", "-1"))) == [False, True, False, False, True]


def test_in_on_a_bool_column_reads_true_and_false(table: pa.Table) -> None:
    assert mask(table, Condition("flagged", isin=("TRUE",))) == [True, False, False, True, False]


def test_an_unparsable_number_is_a_filter_error(table: pa.Table) -> None:
    with pytest.raises(FilterError, match="'ten' is not a number"):
        row_mask(table, [Condition("tokens", isin=("ten",))])


def test_an_unparsable_bool_is_a_filter_error(table: pa.Table) -> None:
    with pytest.raises(FilterError, match="'yes'"):
        row_mask(table, [Condition("flagged", isin=("yes",))])


@pytest.mark.parametrize(
    ("part", "bound", "expected"),
    [
        ("gt", 7, [False, True, False, False, True]),
        ("gte", 7, [False, True, False, True, True]),
        ("lt", 7, [True, False, False, False, False]),
        ("lte", 7, [True, False, False, True, False]),
    ],
)
def test_comparisons_on_an_int_column(
    table: pa.Table, part: str, bound: float, expected: list[bool]
) -> None:
    assert mask(table, Condition("tokens", **{part: bound})) == expected


def test_comparisons_on_a_float_column(table: pa.Table) -> None:
    assert mask(table, Condition("score", gt=0.0, lte=2.5)) == [True, True, True, False, False]


def test_comparisons_on_a_timestamp_column_use_epoch_seconds(table: pa.Table) -> None:
    condition = Condition("at", gte=EPOCH_2024 + DAY, lt=EPOCH_2024 + 3.5 * DAY)
    assert mask(table, condition) == [False, True, False, True, False]


def test_comparisons_on_a_date_column_use_epoch_seconds(table: pa.Table) -> None:
    assert mask(table, Condition("day", gt=EPOCH_2024 + DAY)) == [False, False, True, True, False]
    assert mask(table, Condition("day", lte=EPOCH_2024 + DAY)) == [True, True, False, False, False]


def test_is_null_keeps_null_or_non_null_rows(table: pa.Table) -> None:
    assert mask(table, Condition("region", is_null=True)) == [False, False, True, False, False]
    assert mask(table, Condition("at", is_null=False)) == [True, True, False, True, True]


def test_a_null_value_never_satisfies_in_or_a_comparison(table: pa.Table) -> None:
    assert not mask(table, Condition("tokens", gt=-1e9))[2]
    assert not mask(table, Condition("region", isin=("eu", "us", "apac")))[2]


def test_all_parts_and_all_conditions_must_hold(table: pa.Table) -> None:
    conditions = (Condition("region", isin=("eu",)), Condition("tokens", gte=5, is_null=False))
    assert mask(table, *conditions) == [False, False, False, False, True]


def test_an_unknown_column_is_an_error_listing_the_columns(table: pa.Table) -> None:
    with pytest.raises(FilterError, match="unknown column 'nope'.*region, channel, tokens"):
        row_mask(table, [Condition("nope", is_null=True)])


def test_a_comparison_on_a_string_column_is_an_error(table: pa.Table) -> None:
    with pytest.raises(FilterError, match="'region' is string"):
        row_mask(table, [Condition("region", gt=1)])


def test_in_on_a_time_column_is_an_error_pointing_to_comparisons(table: pa.Table) -> None:
    with pytest.raises(FilterError, match="gt/gte/lt/lte"):
        row_mask(table, [Condition("at", isin=("2024-01-01",))])


def test_a_column_of_other_type_cannot_be_filtered(table: pa.Table) -> None:
    with pytest.raises(FilterError, match="'tags'"):
        row_mask(table, [Condition("tags", is_null=True)])


def test_in_on_a_dictionary_column_equals_in_on_its_plain_strings() -> None:
    plain = pa.array(["eu", None, "us", "eu", "apac", None, "us"])
    encoded = pa.table({"region": plain.dictionary_encode()})
    for values in (("eu",), ("us", "apac"), ("nowhere",), ()):
        expected = row_mask(pa.table({"region": plain}), [Condition("region", isin=values)])
        actual = row_mask(encoded, [Condition("region", isin=values)])
        assert actual.tolist() == expected.tolist()
    assert row_mask(encoded, [Condition("region", isin=("eu",))]).tolist() == [
        True, False, False, True, False, False, False
    ]


def test_range_bounds_on_nanosecond_times_and_huge_integers_compare_exactly() -> None:
    big = 2**62
    table = pa.table({
        "ts": pa.array([0, 1_700_000_000_000_000_000, 1_700_000_000_000_000_001], pa.timestamp("ns")),
        "n": pa.array([big, big + 1, 3], pa.int64()),
    })
    assert row_mask(table, [Condition("ts", gt=5)]).tolist() == [False, True, True]
    assert row_mask(table, [Condition("ts", gte=1_700_000_000)]).tolist() == [False, True, True]
    assert row_mask(table, [Condition("n", gt=float(big))]).tolist() == [False, True, False]
    assert row_mask(table, [Condition("n", lte=2.5)]).tolist() == [False, False, False]
    assert row_mask(table, [Condition("n", lt=3.5)]).tolist() == [False, False, True]
    assert row_mask(table, [Condition("n", gte=2.5), Condition("n", lte=3)]).tolist() == [False, False, True]


@pytest.mark.parametrize("values", [("eu",), ("us", "apac"), ("nowhere",), (), ("eu", "us", "apac")])
def test_a_code_test_keeps_the_rows_row_mask_keeps(values: tuple[str, ...]) -> None:
    plain = pa.array(["eu", None, "us", "eu", "apac", None, "us"])
    for column in (plain.dictionary_encode(), pa.array(["eu", "us"] * 3 + ["apac"]).dictionary_encode()):
        table = pa.table({"region": column})
        condition = Condition("region", isin=values)
        test = code_test(table, condition)
        assert test is not None and test.codes.dtype == np.int32
        expected = row_mask(table, [condition])
        assert test.keep[test.codes].tolist() == expected.tolist()


def test_a_code_test_applies_only_to_in_on_a_dictionary_column(table: pa.Table) -> None:
    assert code_test(table, Condition("region", isin=("eu",))) is None  # plain strings
    assert code_test(table, Condition("channel", isin=("chat",), is_null=False)) is None
    assert code_test(table, Condition("tokens", gt=3)) is None
    with pytest.raises(FilterError, match="unknown column"):
        code_test(table, Condition("nope", isin=("x",)))


RANGES = [{"gt": 2.5}, {"gte": 3}, {"lt": 7.5}, {"lte": -1}, {"gt": 2, "lt": 2},
          {"gte": float("-inf")}, {"lte": float("inf"), "gt": -0.5}, {"gt": 1e30},
          {"lt": -1e30}, {"gte": 2**62, "lte": 2**63}]


@pytest.mark.parametrize("bounds", RANGES)
def test_a_range_test_keeps_the_rows_row_mask_keeps(bounds: dict[str, float]) -> None:
    ints = pa.array([-(2**63), -3, 0, 2, 3, 7, 8, 2**62, 2**63 - 1], pa.int64())
    seconds = np.array([-3, 0, 2, 3, 7, 8], dtype=np.int64)
    times = pa.array(seconds * 1_000_000_000 + 1, pa.timestamp("ns", tz="UTC"))
    for column in (ints, times):
        table = pa.table({"v": column})
        condition = Condition("v", **bounds)
        test = code_test(table, condition) or range_test(table, condition)
        assert isinstance(test, RangeTest) and test.values.dtype == np.int64
        kept = (test.values >= test.low) & (test.values <= test.high)
        assert kept.tolist() == row_mask(table, [condition]).tolist(), (column.type, bounds)


def test_a_range_test_applies_only_to_bounds_on_whole_int64_or_time_columns(
    table: pa.Table,
) -> None:
    assert range_test(table, Condition("tokens", gt=3)) is None  # int32, and nulls
    assert range_test(table, Condition("at", gt=0)) is None  # nulls
    assert range_test(table, Condition("score", gt=0)) is None  # float
    whole = pa.table({"n": pa.array([1, 2, 3], pa.int64())})
    assert range_test(whole, Condition("n", gt=1, is_null=False)) is None
    assert range_test(whole, Condition("n", isin=("1",))) is None
    found = range_test(whole, Condition("n", gt=1))
    assert found is not None and (found.low, found.high) == (2, 2**63 - 1)
    with pytest.raises(FilterError, match="not NaN"):
        range_test(whole, Condition("n", gt=float("nan")))
