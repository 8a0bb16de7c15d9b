"""Robust z and the outlier-RATE test: one extreme row never alarms, a burst does."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift import DetectorState, check_window, initial_state, update
from monitoring.drift.anomaly import horizon_counts, longest_horizon, rate_pvalue, robust_z
from tests.monitoring.drift.streams import batched, hours


def test_robust_z_by_hand() -> None:
    # median 3, MAD = median |x - 3| = median(2, 1, 0, 1, 97) = 1
    z = robust_z(np.array([1.0, 2.0, 3.0, 4.0, 100.0]), 3.0, 1.0)
    assert z.tolist() == pytest.approx([-2 / 1.4826, -1 / 1.4826, 0.0, 1 / 1.4826, 97 / 1.4826])


def test_rate_pvalue_by_hand() -> None:
    # Beta-binomial with a = k0 + 1/2 = 2.5, b = n0 - k0 + 1/2 = 97.5:
    # P(X >= 1 | n = 1) = a / (a + b) = 0.025
    # P(X >= 2 | n = 2) = a (a + 1) / ((a + b)(a + b + 1)) = 8.75 / 10100
    assert rate_pvalue(1, 1, 2, 99) == pytest.approx(0.025)
    assert rate_pvalue(2, 2, 2, 99) == pytest.approx(8.75 / 10100)
    assert rate_pvalue(0, 50, 2, 99) == 1.0


def test_rate_pvalue_falls_with_more_outliers_and_rises_with_reference_rate() -> None:
    ps = [rate_pvalue(k, 1000, 5, 10_000) for k in (1, 5, 10, 20)]
    assert ps == sorted(ps, reverse=True)
    assert rate_pvalue(10, 1000, 50, 10_000) > rate_pvalue(10, 1000, 5, 10_000)


def _window(ref, outliers: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t, x = batched(hours(24, ref.next_time), np.full(24, 100.0), 100, 5.0, rng)
    x[rng.choice(x.size, outliers, replace=False)] = 100.0 + 8 * 5.0  # robust z of about 8
    return t, x


def test_a_burst_of_outliers_alarms(batch_ref) -> None:
    t, x = _window(batch_ref, 144, seed=1)  # 6% of 2,400 rows
    result = check_window(batch_ref.model, t, x).method("anomaly_rate")
    assert result.details["outliers"] >= 144 and result.details["rows"] == 2400
    assert result.drifted and result.p_value < result.threshold
    assert result.effect_size == pytest.approx(result.details["rate"] - result.details["reference_rate"])
    assert result.severity == "critical"  # effect about 0.06: past the 0.05 cut


def test_one_extreme_row_does_not_alarm_but_is_reported(batch_ref) -> None:
    t, x = _window(batch_ref, 0, seed=2)
    x[-1] = 100.0 + 50 * 5.0
    check = check_window(batch_ref.model, t, x)
    result = check.method("anomaly_rate")
    assert not result.drifted
    assert result.details["latest_max_abs_z"] > 40
    assert not check.kind("anomaly").drifted


def test_horizon_counts_only_for_filled_horizons() -> None:
    counts = [(5, 1)] * 100  # 100 pulls of 5 rows, one outlier each
    # window 24: the 3-window horizon (72 pulls) is full, the 7-window one (168) is not
    assert horizon_counts(counts, 24) == ((72, 360, 72),)
    assert horizon_counts(counts[:50], 24) == ()
    assert longest_horizon(24) == 168


def test_a_sparse_burst_alarms_over_a_week_though_no_day_stands_out(iid_ref) -> None:
    """Two outliers a day never clear the window test; fourteen in a week do (pulls of one row)."""
    model = iid_ref.model
    rng = np.random.default_rng(5)
    state = initial_state(model)
    t = hours(7 * 24, iid_ref.next_time)
    x = 100.0 + 5.0 * rng.standard_normal(t.size)
    x[::12] = 100.0 + 9 * 5.0  # every twelfth pull is far out: 2 per window of 24
    day_results = []
    for j in range(t.size):
        state, check = update(model, state, t[j], x[j:j + 1])
        result = check.method("anomaly_rate")
        if result.details.get("pulls") == model.config.window_pulls and result.details["outliers"] > 0:
            day_results.append(result.drifted)
    assert day_results and not any(day_results)  # the one-day window alone never flags
    assert result.drifted and result.details["pulls"] == 168 and result.details["outliers"] == 14
    assert result.details["tests"] == 3  # Bonferroni over the window and both horizons
    single = rate_pvalue(14, 168, model.core.outliers, model.core.n_rows)
    assert result.p_value == pytest.approx(3 * single)


def test_old_states_without_counts_still_load(iid_ref) -> None:
    state = initial_state(iid_ref.model)
    data = state.to_dict()
    del data["counts"]
    assert DetectorState.from_dict(data).counts == ()


def test_rate_pvalue_equals_scipy_betabinom() -> None:
    from scipy.stats import betabinom

    for k in (1, 2, 3, 10, 199, 200, 201, 1000):
        for n in (0, 1, 5, 200, 1000, 5000):
            for k0, n0 in ((0, 1), (0, 168), (3, 168), (168, 168), (20, 1000), (5, 100_000)):
                expected = float(betabinom.sf(k - 1, n, k0 + 0.5, n0 - k0 + 0.5))
                assert rate_pvalue(k, n, k0, n0) == pytest.approx(expected, rel=1e-12, abs=1e-15)
