"""Drift statistics with numpy and the math module only, so serving-side code never needs scipy.

PSI compares binned shares; KS compares a sample with the baseline's piecewise-linear CDF (the
baseline keeps decile edges, not the training rows); chi-squared compares category counts with the
baseline's shares. P-values use the asymptotic Kolmogorov series and the regularized upper
incomplete gamma function, the same quantities scipy.stats reports.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

PSI_WARN = 0.1
PSI_ALERT = 0.25
# Empty bins get this share so that PSI stays finite (a common convention; the value bounds one
# bin's contribution at about 0.5 for a 10% share that vanishes).
PSI_FLOOR = 1e-4
_GAMMA_EPS = 1e-14
_GAMMA_MAX_ITERATIONS = 500


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of ACTUAL shares against EXPECTED shares (same bins)."""
    e = np.clip(np.asarray(expected, dtype=np.float64), PSI_FLOOR, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), PSI_FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_level(value: float) -> str:
    if value >= PSI_ALERT:
        return "alert"
    return "warn" if value >= PSI_WARN else "ok"


def binned_shares(sample: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Shares of SAMPLE in the baseline's bins; values outside the edges count in the outer bins,
    as the training data's own extremes did."""
    edges = np.asarray(edges, dtype=np.float64)
    inner = edges[1:-1]
    index = np.searchsorted(inner, sample, side="right")
    counts = np.bincount(index, minlength=len(edges) - 1).astype(np.float64)
    return counts / max(len(sample), 1)


def value_shares(sample: np.ndarray, values: Sequence[float]) -> tuple[np.ndarray, int]:
    """Shares of SAMPLE per baseline value, and how many sample values the baseline never saw."""
    values = np.asarray(values, dtype=np.float64)
    counts = np.array([np.count_nonzero(np.isclose(sample, v)) for v in values], dtype=np.float64)
    unseen = int(len(sample) - counts.sum())
    return counts / max(len(sample), 1), unseen


def kolmogorov_sf(x: float) -> float:
    """P(K > x) of the Kolmogorov distribution: 2 * sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2)."""
    if x <= 0:
        return 1.0
    if x < 0.2:
        # The alternating series converges slowly here and the value is 1 to double precision.
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2.0 * k * k * x * x)
        total += term if k % 2 else -term
        if term < 1e-16:
            break
    return float(min(max(2.0 * total, 0.0), 1.0))


def baseline_cdf(edges: Sequence[float], shares: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The baseline's CDF at its edges: linear between edges, as training rows spread within a bin."""
    edges = np.asarray(edges, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(shares, dtype=np.float64))])
    return edges, cumulative / cumulative[-1] if cumulative[-1] > 0 else cumulative


def ks_against_cdf(sample: np.ndarray, cdf_x: np.ndarray, cdf_y: np.ndarray) -> tuple[float, float]:
    """One-sample KS statistic of SAMPLE against the piecewise-linear CDF, and its asymptotic p-value."""
    sample = np.sort(np.asarray(sample, dtype=np.float64))
    n = len(sample)
    if n == 0:
        return 0.0, 1.0
    reference = np.interp(sample, cdf_x, cdf_y, left=0.0, right=1.0)
    upper = np.arange(1, n + 1) / n - reference
    lower = reference - np.arange(0, n) / n
    statistic = float(max(upper.max(), lower.max(), 0.0))
    return statistic, kolmogorov_sf(math.sqrt(n) * statistic)


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic and its asymptotic p-value (tests compare it with scipy's 'asymp')."""
    a, b = np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / len(a)
    cdf_b = np.searchsorted(b, both, side="right") / len(b)
    statistic = float(np.max(np.abs(cdf_a - cdf_b)))
    effective = len(a) * len(b) / (len(a) + len(b))
    return statistic, kolmogorov_sf(math.sqrt(effective) * statistic)


def gamma_upper_regularized(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a): the series for P below a + 1, Lentz's continued fraction above."""
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        denominator = a
        for _ in range(_GAMMA_MAX_ITERATIONS):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * _GAMMA_EPS:
                break
        return float(min(max(1.0 - total * math.exp(log_prefix), 0.0), 1.0))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _GAMMA_MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _GAMMA_EPS:
            break
    return float(min(max(math.exp(log_prefix) * h, 0.0), 1.0))


def chi_squared(observed: Sequence[float], expected_shares: Sequence[float]) -> tuple[float, float, int]:
    """Pearson's chi-squared of OBSERVED counts against EXPECTED_SHARES: statistic, p-value, dof.

    Categories the baseline gives no share are dropped (their expectation is zero); dof is the
    number of remaining categories minus one.
    """
    observed = np.asarray(observed, dtype=np.float64)
    shares = np.asarray(expected_shares, dtype=np.float64)
    keep = shares > 0
    observed, shares = observed[keep], shares[keep] / shares[keep].sum()
    total = observed.sum()
    dof = len(observed) - 1
    if total == 0 or dof < 1:
        return 0.0, 1.0, max(dof, 0)
    expected = shares * total
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return statistic, gamma_upper_regularized(dof / 2.0, statistic / 2.0), dof
