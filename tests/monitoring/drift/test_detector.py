"""The per-pull detector: order and input checks, filling windows, and batch == stream of pulls."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from monitoring.drift import check_window, initial_state, update
from monitoring.errors import ValidationError
from tests.monitoring.drift.streams import hours


def test_each_pull_is_checked_once_in_time_order(iid_ref) -> None:
    model = iid_ref.model
    t = iid_ref.next_time
    state, _ = update(model, None, t, [100.0])
    with pytest.raises(ValidationError, match="is not after the last one checked"):
        update(model, state, t, [101.0])
    with pytest.raises(ValidationError, match="is not after the last one checked"):
        update(model, initial_state(model), iid_ref.times[-1], [101.0])  # inside the reference


def test_bad_pulls_are_refused_with_what_to_do(iid_ref) -> None:
    model = iid_ref.model
    with pytest.raises(ValidationError, match="no rows for archived_gb_predicted; skip the field"):
        update(model, None, iid_ref.next_time, [])
    with pytest.raises(ValidationError, match="NaN or infinite"):
        update(model, None, iid_ref.next_time, [1.0, float("nan")])
    with pytest.raises(ValidationError, match="no timezone"):
        update(model, None, datetime(2026, 2, 1), [1.0])


def test_aware_datetimes_and_epoch_seconds_agree(iid_ref) -> None:
    t = iid_ref.next_time
    _, by_number = update(iid_ref.model, None, t, [104.0])
    _, by_datetime = update(iid_ref.model, None, datetime.fromtimestamp(t, UTC), [104.0])
    assert by_number.to_dict() == by_datetime.to_dict()


def test_windows_fill_before_window_methods_run(iid_ref) -> None:
    model = iid_ref.model
    rng = np.random.default_rng(9)
    t = hours(model.config.window_pulls, iid_ref.next_time)
    state = None
    for i in range(t.size):
        state, check = update(model, state, t[i], [100.0 + 5.0 * rng.standard_normal()])
        if i == 0:
            assert check.method("ks").skipped == f"window filling: 1/{model.config.window_pulls} pulls"
            assert check.method("mann_kendall").skipped == (
                f"trend window filling: 1/{model.config.trend_window_pulls} pulls")
            assert check.method("cusum_location").skipped is None
    assert check.method("ks").skipped is None and check.method("anomaly_rate").skipped is None
    assert state.pulls_seen == t.size and len(state.window) == model.config.window_pulls


def test_streamed_window_matches_the_batch_check_on_the_same_rows(iid_ref) -> None:
    """The last window_pulls single-row pulls, streamed or given as one batch, give the same distances."""
    model = iid_ref.model
    rng = np.random.default_rng(10)
    n = model.config.window_pulls
    t = hours(n, iid_ref.next_time)
    x = 102.0 + 5.0 * rng.standard_normal(n)
    state = None
    for i in range(n):
        state, streamed = update(model, state, t[i], [x[i]])
    batch = check_window(model, t, x)
    for name in ("ks", "psi", "wasserstein", "jensen_shannon"):
        assert streamed.method(name).statistic == pytest.approx(batch.method(name).statistic, abs=1e-3), name
    assert streamed.to_dict()["methods"][0]["statistic"] == pytest.approx(
        batch.to_dict()["methods"][0]["statistic"])  # CUSUMs over the same pulls agree too


def test_check_window_reports_the_last_pull(iid_ref) -> None:
    t = hours(5, iid_ref.next_time)
    check = check_window(iid_ref.model, np.repeat(t, [1, 2, 3, 4, 5]), np.full(15, 100.0) + np.arange(15))
    assert check.at == t[-1] and check.pull_rows == 5 and check.status == "ok"
