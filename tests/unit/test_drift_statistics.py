"""PSI, KS and chi-squared computed with numpy alone, checked against scipy.stats and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from finscore.drift import statistics


def test_psi_of_identical_shares_is_zero_and_of_a_known_shift_matches_the_formula():
    expected = [0.25, 0.25, 0.25, 0.25]
    actual = [0.10, 0.20, 0.30, 0.40]
    by_hand = sum((a - e) * math.log(a / e) for a, e in zip(actual, expected))

    assert statistics.psi(expected, expected) == 0.0
    assert statistics.psi(expected, actual) == pytest.approx(by_hand)
    assert statistics.psi(expected, actual) == pytest.approx(0.2282, abs=1e-4)


def test_psi_levels_use_the_warn_and_alert_thresholds():
    assert statistics.psi_level(0.09) == "ok"
    assert statistics.psi_level(0.10) == "warn"
    assert statistics.psi_level(0.2499) == "warn"
    assert statistics.psi_level(0.25) == "alert"


def test_empty_bins_keep_psi_finite():
    assert math.isfinite(statistics.psi([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]))


@pytest.mark.parametrize("x", [0.3, 0.5, 0.8, 1.0, 1.36, 2.0, 3.0])
def test_kolmogorov_survival_function_matches_scipy(x):
    assert statistics.kolmogorov_sf(x) == pytest.approx(stats.kstwobign.sf(x), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_two_sample_ks_matches_scipy_and_the_kolmogorov_limit(shift):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=400), rng.normal(loc=shift, size=300)

    statistic, p_value = statistics.ks_two_sample(a, b)
    expected = stats.ks_2samp(a, b, method="asymp")
    # scipy's "asymp" uses the finite-n distribution at round(en); the Kolmogorov limit is kstwobign.
    effective = len(a) * len(b) / (len(a) + len(b))

    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(stats.kstwobign.sf(math.sqrt(effective) * statistic), rel=1e-9, abs=1e-14)
    assert (p_value < 0.05) == (expected.pvalue < 0.05)


def test_ks_against_a_piecewise_linear_cdf_matches_scipy_kstest():
    # The uniform distribution on [0, 10] is exactly the CDF of equal-share deciles.
    edges, shares = np.linspace(0, 10, 11), [0.1] * 10
    cdf_x, cdf_y = statistics.baseline_cdf(edges, shares)
    sample = np.random.default_rng(5).uniform(0, 12, size=500)

    statistic, _ = statistics.ks_against_cdf(sample, cdf_x, cdf_y)

    assert statistic == pytest.approx(stats.kstest(sample, stats.uniform(0, 10).cdf).statistic)


@pytest.mark.parametrize(("a", "x"), [(0.5, 0.1), (1.0, 1.0), (2.5, 1.0), (2.5, 7.0), (10.0, 3.0), (10.0, 25.0), (50, 40)])
def test_regularized_upper_gamma_matches_scipy(a, x):
    from scipy.special import gammaincc

    assert statistics.gamma_upper_regularized(a, x) == pytest.approx(gammaincc(a, x), rel=1e-9, abs=1e-14)


def test_chi_squared_matches_scipy_chisquare():
    observed = [30, 50, 20]
    shares = [0.2, 0.5, 0.3]

    statistic, p_value, dof = statistics.chi_squared(observed, shares)
    expected = stats.chisquare(observed, f_exp=np.array(shares) * sum(observed))

    assert dof == 2
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_binned_shares_put_out_of_range_values_in_the_outer_bins():
    shares = statistics.binned_shares(np.array([-5.0, 0.5, 1.5, 99.0]), [0.0, 1.0, 2.0])
    assert shares.tolist() == [0.5, 0.5]
