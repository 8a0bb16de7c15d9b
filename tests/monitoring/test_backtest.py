"""Backtest: stored history replayed with the current and the edited settings, live store untouched."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from monitoring.actors import SYSTEM
from monitoring.backtest import backtest, replayable
from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.ingest import store_pull
from monitoring.sources import Fetched
from monitoring.store import Alerts, Predictions
from tests.support.clock import FakeClock

FIELD = "archived_gb_predicted"
NEVER = {"cusum_location": 1e9, "cusum_scale": 1e9, "cusum_shape": 1e9, "ks": 1e9, "psi": 1e9,
         "wasserstein": 1e9, "jensen_shannon": 1e9, "anomaly_rate": 1e-300, "mann_kendall": 1e-300}


def _history(monitor: Monitor, clock: FakeClock, days: int, shift_after_days: float) -> None:
    """Hourly pulls of 20 rows; the level moves up by 3 sd after ``shift_after_days``."""
    rng = np.random.default_rng(7)
    monitor.settings.update(SYSTEM, {"monitored_fields": [FIELD]})
    settings = monitor.settings.effective()
    start = clock() - timedelta(days=days)
    for hour in range(days * 24):
        slot = start + timedelta(hours=hour)
        level = 500.0 + (120.0 if hour >= shift_after_days * 24 else 0.0)
        rows = [{FIELD: float(v)} for v in rng.normal(level, 40.0, 20)]
        store_pull(monitor, Fetched("mock", rows), slot, slot, slot, "backfill", settings)


@pytest.mark.slow
def test_edited_settings_change_the_outcome_and_nothing_live_changes(monitor: Monitor,
                                                                     clock: FakeClock) -> None:
    _history(monitor, clock, days=10, shift_after_days=8.5)
    with monitor.store.read() as conn:
        rows_before = Predictions(conn).count()
    result = backtest(monitor, {"threshold_overrides": NEVER}, days=10)
    assert result.pulls == 240 and result.rows == 4800 and not result.thinned
    assert result.current.episodes >= 1  # the 3 sd shift is caught with today's settings
    assert f"{FIELD}/drift" in result.current.by_kind
    # Distribution thresholds nobody can reach raise no drift alert (a p-value of exactly 0,
    # as the outlier rate reaches here, is below any alpha an override can set).
    assert f"{FIELD}/drift" not in result.proposed.by_kind
    assert result.proposed.episodes < result.current.episodes
    assert "the first 7 days form the reference" in result.note
    with monitor.store.read() as conn:
        assert Predictions(conn).count() == rows_before
        assert Alerts(conn).counts() == {}
    assert monitor.settings.effective()["threshold_overrides"] == {}


def test_invalid_edits_and_ranges_get_one_clear_message(monitor: Monitor) -> None:
    with pytest.raises(ValidationError, match="between 7 and 120 days"):
        backtest(monitor, {}, days=3)
    with pytest.raises(ValidationError, match="must be a positive number"):
        backtest(monitor, {"threshold_overrides": {"ks": -1}}, days=30)
    with pytest.raises(ValidationError, match="only 0 pulls"):
        backtest(monitor, {}, days=30)


def test_only_detection_settings_are_replayed() -> None:
    picked = replayable({"false_alarms_per_30d": 2.0, "endpoint_timeout_seconds": 5.0,
                         "monitored_fields": [FIELD], "lockout_attempts": 3, "unknown": 1})
    assert picked == {"false_alarms_per_30d": 2.0, "monitored_fields": [FIELD]}
