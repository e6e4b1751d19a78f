"""Is a difference between two runs real? McNemar's exact test on paired rows.

Two runs joined on row id disagree on some rows: ``fixed`` rows are wrong in
the baseline and right in the candidate, ``regressed`` rows the other way
round. Rows both get right or both get wrong say nothing about which is
better. If neither run were better, each disagreeing row would fall either
way with probability 1/2; McNemar's exact test asks how unlikely a split as
lopsided as the observed one is under that hypothesis.

The binomial probabilities are computed in floating point without scipy
(the engine depends on NumPy and Numba only), by Loader's saddle-point
expansion (the algorithm of R's ``dbinom``), accurate to about 1e-14
relative whatever the number of rows, where ``lgamma`` differences lose
digits as n grows.
"""

from __future__ import annotations

import math

# Loader's Stirling-series coefficients: 1/12, 1/360, 1/1260, 1/1680, 1/1188.
_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
_LOG_2PI = math.log(2 * math.pi)


def _stirling_error(n: int) -> float:
    # log(n!) - log(sqrt(2 pi n) (n / e)^n), for n >= 1
    if n <= 15:
        return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - 0.5 * _LOG_2PI
    nn = float(n) * n
    if n > 500:
        return (_S0 - _S1 / nn) / n
    if n > 80:
        return (_S0 - (_S1 - _S2 / nn) / nn) / n
    if n > 35:
        return (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _deviance(x: float, mean: float) -> float:
    # x log(x / mean) + mean - x, without cancellation when x is near mean
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        total = (x - mean) * v
        term = 2 * x * v
        j = 1
        while True:
            term *= v * v
            updated = total + term / (2 * j + 1)
            if updated == total:
                return total
            total = updated
            j += 1
    return x * math.log(x / mean) + mean - x


def fair_coin_pmf(k: int, n: int) -> float:
    """P(X = k) for X ~ Binomial(n, 1/2).

    Example: ``fair_coin_pmf(1, 2)`` is 0.5.
    """
    if k == 0 or k == n:
        return math.exp(n * math.log(0.5))
    half = n / 2
    exponent = (_stirling_error(n) - _stirling_error(k) - _stirling_error(n - k)
                - _deviance(k, half) - _deviance(n - k, half))
    return math.exp(exponent - 0.5 * (_LOG_2PI + math.log(k) + math.log1p(-k / n)))


def fair_coin_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), summed from k down.

    Each term is the previous one times i / (n - i + 1); the sum stops when
    the terms no longer change it. About 8 sqrt(n) terms at worst.
    """
    if k >= n:
        return 1.0
    term = fair_coin_pmf(k, n)
    total = term
    for i in range(k, 0, -1):
        term *= i / (n - i + 1)
        if total + term == total:
            break
        total += term
    return total


def mcnemar_p_value(fixed: int, regressed: int) -> float:
    """Two-sided exact McNemar p-value of ``fixed`` against ``regressed`` rows.

    min(1, 2 P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2), b = fixed and
    c = regressed: the probability, were both runs equally good, of a split
    of the b + c disagreeing rows at least as lopsided as this one. Equal to
    scipy's ``binomtest(b, b + c, 0.5).pvalue`` and to statsmodels'
    ``mcnemar(..., exact=True).pvalue``.

    Example: ``mcnemar_p_value(10, 2)`` is 0.0386 (to 4 digits).

    Notes
    -----
    1.0 when b + c = 0: no disagreement, no evidence either way. Raises
    ValueError for a negative count.
    """
    if fixed < 0 or regressed < 0:
        raise ValueError(f"counts have to be non-negative, got {fixed} and {regressed}")
    n = fixed + regressed
    smaller = min(fixed, regressed)
    if 2 * smaller >= n:  # includes n = 0: the split is as even as it can be
        return 1.0
    return min(1.0, 2 * fair_coin_cdf(smaller, n))
