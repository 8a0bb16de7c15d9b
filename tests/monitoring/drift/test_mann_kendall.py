"""Mann-Kendall S, variance, z and p on small series worked by hand; Theil-Sen against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitoring.drift import check_window
from monitoring.drift.mann_kendall import mk_test, mk_z_many, theil_sen
from tests.monitoring.drift.streams import DAY, hours


def test_known_series_without_ties() -> None:
    # x = 1 3 2 5 4: pairs (i<j) give +4, +1, +2, -1 -> S = 6
    # Var S = n(n-1)(2n+5)/18 = 5*4*15/18 = 50/3; z = (S - 1)/sqrt(Var S) = sqrt(1.5)
    # p = erfc(z / sqrt 2) = 0.2206714
    res = mk_test(np.array([1.0, 3.0, 2.0, 5.0, 4.0]))
    assert res.s == 6
    assert res.var_s == pytest.approx(50 / 3)
    assert res.z == pytest.approx(1.2247449, abs=1e-7)
    assert res.p_value == pytest.approx(0.2206714, abs=1e-7)


def test_known_series_with_a_tie_and_a_decreasing_one() -> None:
    # x = 1 2 2 3: S = 3 + 1 + 1 = 5; one tie group of 2: Var S = (4*3*13 - 2*1*9)/18 = 138/18
    res = mk_test(np.array([1.0, 2.0, 2.0, 3.0]))
    assert res.s == 5
    assert res.var_s == pytest.approx(138 / 18)
    assert res.z == pytest.approx(4 / np.sqrt(138 / 18))
    assert res.p_value == pytest.approx(0.1485618, abs=1e-7)
    down = mk_test(np.array([4.0, 5.0, 2.0, 3.0, 1.0]))  # mirrored series: S and z change sign
    assert down.s == -6 and down.z == pytest.approx(-1.2247449, abs=1e-7)


def test_no_trend_and_variance_inflation() -> None:
    flat = mk_test(np.array([2.0, 1.0, 1.0, 2.0]))  # S = (-1 -1 +0) + (0 +1) + (+1) = 0
    assert flat.s == 0 and flat.z == 0.0 and flat.p_value == 1.0
    base = mk_test(np.array([1.0, 3.0, 2.0, 5.0, 4.0]))
    inflated = mk_test(np.array([1.0, 3.0, 2.0, 5.0, 4.0]), var_inflation=2.0)
    assert inflated.var_s == pytest.approx(2 * base.var_s)
    assert inflated.z == pytest.approx(base.z / np.sqrt(2))


def test_s_agrees_with_kendalls_tau_on_time() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(40).cumsum()
    n = x.size
    tau = stats.kendalltau(np.arange(n), x).statistic
    assert mk_test(x).s == pytest.approx(tau * n * (n - 1) / 2)


@pytest.mark.parametrize("seed", [0, 1])
def test_theil_sen_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 10, 60))
    x[10] = x[11]  # a repeated x: its pair has no slope and must be skipped, as scipy does
    y = 0.4 * x + rng.standard_t(2, x.size)
    slope, intercept = theil_sen(y, x)
    ref = stats.theilslopes(y, x)
    assert slope == pytest.approx(ref.slope, rel=1e-12)
    assert intercept == pytest.approx(ref.intercept, rel=1e-12)


def test_method_flags_a_steady_trend_with_the_theil_sen_slope(iid_ref) -> None:
    """Three days rising 1 reference sd per day: the slope detail is Theil-Sen of the values per day."""
    model = iid_ref.model
    rng = np.random.default_rng(1)
    t = hours(72, iid_ref.next_time)
    days = (t - t[0]) / DAY
    x = 100.0 + 5.0 * days + 5.0 * rng.standard_normal(t.size)
    result = check_window(model, t, x).method("mann_kendall")
    assert result.details["slope_per_day"] == pytest.approx(stats.theilslopes(x, days).slope, rel=1e-9)
    assert result.effect_size == pytest.approx(result.details["slope_per_day"] / model.core.value_sd)
    assert result.drifted and result.p_value < result.threshold


def test_method_ignores_a_flat_window(iid_ref) -> None:
    rng = np.random.default_rng(2)
    t = hours(72, iid_ref.next_time)
    result = check_window(iid_ref.model, t, 100.0 + 5.0 * rng.standard_normal(t.size)).method("mann_kendall")
    assert not result.drifted and result.p_value > 1e-3


def test_p_value_equals_scipy_norm() -> None:
    rng = np.random.default_rng(5)
    for n in (5, 12, 40, 200):
        for trend in (0.0, 0.02, 0.3):
            res = mk_test(rng.standard_normal(n) + trend * np.arange(n))
            assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(res.z)), rel=1e-12, abs=1e-300)


def test_the_batched_z_equals_mk_test_row_by_row_ties_included() -> None:
    rng = np.random.default_rng(8)
    rows = np.concatenate((rng.standard_normal((30, 72)) + np.linspace(0, 0.5, 72),
                           rng.integers(0, 4, (10, 72)).astype(float),  # heavy ties
                           np.full((1, 72), 2.0)))  # all equal: S = 0
    z = mk_z_many(rows)
    assert z == pytest.approx([mk_test(r).z for r in rows], abs=1e-12)
    assert z[-1] == 0.0 and np.all(np.isfinite(z))
