"""engine.significance: McNemar's exact test against scipy's binomial test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest

from evalql.engine.significance import fair_coin_cdf, fair_coin_pmf, mcnemar_p_value


@settings(max_examples=400, deadline=None)
@given(fixed=st.integers(0, 3000), regressed=st.integers(0, 3000))
def test_the_p_value_is_scipys_exact_binomial_test(fixed: int, regressed: int) -> None:
    n = fixed + regressed
    expected = 1.0 if n == 0 else binomtest(fixed, n, 0.5).pvalue
    # abs: scipy's tail underflows to 0 sooner
    assert mcnemar_p_value(fixed, regressed) == pytest.approx(expected, rel=1e-11, abs=1e-250)


@pytest.mark.parametrize(("fixed", "regressed"), [
    (10, 2), (2, 10), (0, 1), (0, 25), (5, 5), (5, 6), (49_000, 51_000),
    (499_000, 501_000), (4_990_000, 5_010_000), (1_000, 1_400), (0, 1_000), (300, 10_000),
])
def test_large_and_lopsided_splits(fixed: int, regressed: int) -> None:
    expected = binomtest(fixed, fixed + regressed, 0.5).pvalue
    assert mcnemar_p_value(fixed, regressed) == pytest.approx(expected, rel=1e-10, abs=1e-250)


def test_no_disagreement_is_no_evidence() -> None:
    assert mcnemar_p_value(0, 0) == 1.0
    assert mcnemar_p_value(7, 7) == 1.0
    assert mcnemar_p_value(10, 2) == mcnemar_p_value(2, 10)
    with pytest.raises(ValueError, match="non-negative"):
        mcnemar_p_value(-1, 3)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 10**6), data=st.data())
def test_the_fair_coin_distribution_is_scipys(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    assert fair_coin_pmf(k, n) == pytest.approx(binom.pmf(k, n, 0.5), rel=1e-11, abs=1e-250)
    if k < n // 2 + 2:  # the sum runs from k down: the lower half, as McNemar uses it
        assert fair_coin_cdf(k, n) == pytest.approx(binom.cdf(k, n, 0.5), rel=1e-10, abs=1e-250)
    assert fair_coin_cdf(n, n) == 1.0
    assert math.isclose(fair_coin_pmf(0, 1), 0.5)
