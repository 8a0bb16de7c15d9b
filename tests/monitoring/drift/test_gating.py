"""Verdict = calibrated threshold AND effect size: big samples do not turn trivia into alarms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitoring.drift import check_window
from monitoring.drift.gating import distance_result, scaled_threshold
from tests.monitoring.drift.streams import batched, hours

CUTS = (0.1, 0.3)


def test_scaled_threshold_by_hand() -> None:
    # stat**2 * n_h > c  <=>  stat > sqrt(c / n_h): c = 9, n_h = 100 -> 0.3
    assert scaled_threshold(9.0, 100.0, 2) == pytest.approx(0.3)
    assert scaled_threshold(9.0, 100.0, 1) == pytest.approx(0.09)


def test_threshold_sources_in_order_override_calibrated_default() -> None:
    calibrated = {"c": 9.0}
    assert distance_result("ks", "drift", 0.25, 100.0, 2, calibrated, 0.2, 0.5, 0.1, CUTS).threshold == 0.2
    result = distance_result("ks", "drift", 0.25, 100.0, 2, calibrated, None, 0.5, 0.1, CUTS)
    assert result.threshold == pytest.approx(0.3) and result.details["threshold_source"] == "calibrated"
    assert not result.drifted
    fallback = distance_result("ks", "drift", 0.25, 100.0, 2, {}, None, 0.2, 0.1, CUTS)
    assert fallback.threshold == 0.2 and fallback.drifted and fallback.severity == "warning"


def test_effect_floor_blocks_a_statistic_over_a_tiny_threshold() -> None:
    """With n_h = 1e6 the calibrated threshold is 0.003; a 0.05 distance is 'significant' but trivial."""
    result = distance_result("ks", "drift", 0.05, 1e6, 2, {"c": 9.0}, None, 0.5, 0.1, CUTS)
    assert result.statistic > result.threshold and not result.drifted and result.severity is None


def _window(ref, shift_sd: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return batched(hours(24, ref.next_time), np.full(24, 100.0 + 5.0 * shift_sd), 8334, 5.0, rng)


def test_a_trivial_shift_in_200k_rows_is_significant_but_does_not_alarm(batch_ref) -> None:
    t, x = _window(batch_ref, 0.05)  # 24 pulls x 8,334 rows, shifted by 1/20 sd
    assert x.size > 200_000
    assert stats.ks_2samp(batch_ref.values, x).pvalue < 1e-6  # a p < 0.05 rule would alarm
    check = check_window(batch_ref.model, t, x)
    ks = check.method("ks")
    assert ks.p_value < 1e-4 and ks.statistic > ks.threshold  # past the size-scaled threshold ...
    assert ks.statistic < ks.details["min_effect"]            # ... but below the smallest effect that matters
    assert not check.drifted, [m.name for m in check.methods if m.drifted]


def test_a_real_shift_in_200k_rows_alarms(batch_ref) -> None:
    t, x = _window(batch_ref, 0.5)
    check = check_window(batch_ref.model, t, x)
    assert check.kind("drift").drifted
    flagged = set(check.kind("drift").methods)
    assert {"cusum_location", "ks", "psi", "wasserstein", "jensen_shannon"} <= flagged
    assert check.method("wasserstein").statistic == pytest.approx(0.5, abs=0.05)
