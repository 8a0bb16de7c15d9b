"""The false-alarm budget holds on a long stationary, autocorrelated stream, and it can fail.

Product defaults throughout (200 bootstrap replicates): this is the calibration users get.
A mis-set budget on the same stream must give clearly more alarms, which proves the
alarm count is measured and not zero by construction.
"""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift import DriftConfig, EpisodeTracker, fit_reference, initial_state, retarget, update
from monitoring.drift.calibration import Calibration
from monitoring.drift.reference import ReferenceModel
from tests.monitoring.drift.streams import ar1, hours

REF_DAYS, MONITOR_DAYS = 14, 90
PHI = 0.6


@pytest.fixture(scope="module")
def ar1_stream() -> tuple[ReferenceModel, np.ndarray, np.ndarray]:
    """A 2-week reference and 90 days after it of the same hourly AR(1) process (phi 0.6)."""
    n_ref = REF_DAYS * 24
    n = n_ref + MONITOR_DAYS * 24
    t = hours(n)
    x = 500.0 + 20.0 * ar1(n, PHI, np.random.default_rng(2026))
    model = fit_reference(t[:n_ref], x[:n_ref], DriftConfig(pull_interval_minutes=60),
                          np.random.default_rng(7), field="archived_gb_predicted")
    return model, t[n_ref:], x[n_ref:]


def _episodes_per_30d(model: ReferenceModel, t: np.ndarray, x: np.ndarray) -> tuple[float, int]:
    """(episodes opened per 30 days, checks that flagged) when every pull is checked in order."""
    tracker = EpisodeTracker(model.config.resolve_after_clean_checks)
    state, opened, flagged = initial_state(model), 0, 0
    for i in range(t.size):
        state, check = update(model, state, t[i], [x[i]])
        flagged += check.drifted
        opened += sum(e.action == "opened" for e in tracker.apply(check))
    days = (t[-1] - t[0]) / 86_400.0 + 1 / 24
    return opened * 30.0 / days, flagged


def test_the_reference_sees_the_autocorrelation(ar1_stream) -> None:
    model, _, _ = ar1_stream
    assert model.core.phi.size >= 1 and abs(model.core.phi[0] - PHI) < 0.15
    assert model.calibration.replicates == 200


def test_stationary_ar1_stays_within_one_alarm_per_30_days(ar1_stream) -> None:
    model, t, x = ar1_stream
    rate, _ = _episodes_per_30d(model, t, x)
    assert rate <= 1.0, f"{rate:.2f} false-alarm episodes per 30 days on a stationary stream"


def test_a_mis_set_budget_gives_clearly_more_alarms(ar1_stream) -> None:
    """Budget 30 per 30 days with no safety margin: thresholds drop and alarms follow, on 30 days."""
    model, t, x = ar1_stream
    loose = retarget(model, model.config.with_changes(false_alarms_per_30d=30.0, assurance=1.0))
    month = slice(0, 30 * 24)
    rate, flagged = _episodes_per_30d(loose, t[month], x[month])
    assert rate >= 5.0 and flagged >= 10  # the default budget gives 0 and 0 on this stream


def test_thresholds_fall_as_the_budget_rises_and_retarget_is_exact(ar1_stream) -> None:
    model, _, _ = ar1_stream
    cal = model.calibration
    same = retarget(model, model.config)
    assert same.calibration.to_dict() == cal.to_dict()
    previous = None
    for budget in (0.5, 1.0, 5.0, 50.0):
        c = retarget(model, model.config.with_changes(false_alarms_per_30d=budget)).calibration
        if previous is not None:
            assert np.all(c.cusum_h <= previous.cusum_h)
            for name in ("ks", "psi", "wasserstein", "jensen_shannon"):
                assert c.params[name]["c"] < previous.params[name]["c"]
            assert c.params["mann_kendall"]["alpha"] > previous.params["mann_kendall"]["alpha"]
        previous = c
    assert Calibration.from_dict(cal.to_dict()).to_dict() == cal.to_dict()


def test_design_rate_splits_the_budget_across_methods(ar1_stream) -> None:
    """alpha per method = budget / assurance / pulls per 30 days * registry weight."""
    model, _, _ = ar1_stream
    cal = model.calibration
    per_pull = 1.0 / 50.0 / 720.0
    assert cal.design_rate_per_pull == pytest.approx(per_pull)
    assert cal.params["ks"]["alpha"] == pytest.approx(per_pull * 0.05)
    assert cal.params["mann_kendall"]["alpha"] == pytest.approx(per_pull * 0.10)
