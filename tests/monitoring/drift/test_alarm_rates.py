"""The tail formulas behind calibration: Lundberg roots, exponential tails, grid thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift.alarm_rates import (
    H_GRID,
    count_alarms,
    exp_tail,
    long_run_factors,
    lundberg,
    replicate_thetas,
    tail_quantile,
    threshold_for,
)
from monitoring.drift.cusum import path


def test_lundberg_root_solves_the_moment_equation() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(-0.3, 1.0, (3, 20_000))
    theta = lundberg(x)
    assert np.all(theta > 0)
    assert np.mean(np.exp(theta[:, None] * x), axis=1) == pytest.approx(np.ones(3), abs=1e-6)
    # for N(mu, s^2) the root is -2 mu / s^2 = 0.6; samples of 20k land close
    assert theta == pytest.approx(np.full(3, 0.6), abs=0.05)


def test_lundberg_is_zero_without_negative_drift() -> None:
    x = np.random.default_rng(1).normal(0.1, 1.0, (1, 1000))
    assert lundberg(x).tolist() == [0.0]


def test_tail_quantile_by_hand() -> None:
    # u + beta ln(top / alpha) = 2 + ln(0.1 / 0.001) = 2 + ln 100
    assert tail_quantile(2.0, 1.0, 0.001) == pytest.approx(2.0 + np.log(100.0))
    assert tail_quantile(2.0, 1.0, 0.5) == 2.0  # alpha above the fitted top share: u itself


def test_exp_tail_recovers_an_exponential_scale() -> None:
    samples = np.random.default_rng(2).exponential(3.0, 200_000)
    u, beta = exp_tail(samples)
    assert u == pytest.approx(3.0 * np.log(10.0), rel=0.02)  # the 90th percentile
    assert beta == pytest.approx(3.0, rel=0.02)              # memoryless: the mean excess is the scale


def test_threshold_for_interpolates_in_log_rate() -> None:
    curve = -0.1 * H_GRID  # log10 rate falls 0.1 per unit of h
    assert threshold_for(curve, 1e-3) == pytest.approx(30.0)
    assert threshold_for(curve, 10 ** -2.25) == pytest.approx(22.5)
    assert threshold_for(curve, 1e-300) == H_GRID[-1]  # beyond the grid: the largest threshold
    assert threshold_for(curve, 10.0) == 0.0


def test_count_alarms_restarts_after_each_alarm() -> None:
    x = np.array([1.0, 1.0, 1.0, 1.0, -5.0, 3.0])
    # k = 0, h = 2: sums 1, 2 (alarm, restart), 1, 2 (alarm), 0, 3 (alarm) -> 3 alarms
    counts = count_alarms(x[None, None, :], np.array([0.0]), np.array([2.0, 10.0]))
    assert counts.tolist() == [[3.0, 0.0]]
    assert path(x, 0.0).max() < 10.0


def test_long_run_factor_sees_positive_autocorrelation() -> None:
    rng = np.random.default_rng(3)
    white = rng.standard_normal((4, 5000))
    smooth = (white[:, 1:] + white[:, :-1]) / np.sqrt(2)  # MA(1): lag-1 autocorrelation 0.5, none after
    assert long_run_factors(white) == pytest.approx(np.ones(4), abs=0.1)
    # 1 + 2 * (Bartlett weight 1 - 1/6) * 0.5
    assert long_run_factors(smooth) == pytest.approx(np.full(4, 1 + 2 * (5 / 6) * 0.5), abs=0.1)


def test_long_run_factors_are_per_row() -> None:
    rng = np.random.default_rng(4)
    white = rng.standard_normal((2, 20_000))
    smooth = (white[1:, 1:] + white[1:, :-1]) / np.sqrt(2)
    rows = np.vstack([white[:1, 1:], smooth])
    # the pooled factor would mix the two; per row each gets its own
    assert long_run_factors(rows).tolist() == pytest.approx([1.0, 1 + 2 * (5 / 6) * 0.5], abs=0.05)


def test_replicates_with_persistent_increments_get_smaller_roots() -> None:
    """A replicate whose refitted reference left autocorrelation behind must set the far tail.

    Ten replicates are white noise, two are AR(1) with phi 0.6 and the same mean and
    variance: their CUSUM climbs like white noise of 4x the variance (long-run factor
    (1 + phi) / (1 - phi) = 4), so their Lundberg roots must be several times smaller.
    """
    rng = np.random.default_rng(9)
    n, phi = 20_000, 0.6
    x = rng.standard_normal((12, n))
    for r in (10, 11):
        e = x[r] * np.sqrt(1 - phi ** 2)
        for t in range(1, n):
            e[t] += phi * e[t - 1]
        x[r] = e
    theta, _ = replicate_thetas(x - 0.5, 0.0, np.random.default_rng(0))
    white, persistent = theta[:10], theta[10:]
    assert white == pytest.approx(np.full(10, 1.0), rel=0.15)  # -2 mu / s^2 for N(-0.5, 1)
    ratio = float(np.mean(white) / np.mean(persistent))
    assert 2.5 < ratio < 5.0
