"""Drift read model: SQL histograms, method rows, trend line and run history against raw data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import theilslopes

from monitoring.context import Monitor
from monitoring.drift.registry import REGISTRY
from monitoring.store import DriftStore, Predictions
from monitoring.timeutil import from_ms
from monitoring.views import drift
from monitoring.views.common import TimeRange
from tests.support import seeded
from tests.support.hourly import store_hourly

FIELD = "archived_gb_predicted"


def test_overview_shows_the_reference_and_every_method(seeded_monitor: Monitor) -> None:
    view = drift.overview(seeded_monitor, FIELD)
    assert view.status == "ok" and view.reference is not None and view.reference.version == 1
    assert [m.name for m in view.methods] == [spec.name for spec in REGISTRY]
    assert all(m.verdict in ("stable", "drifted", "skipped") for m in view.methods)
    assert view.window is not None and view.window.end <= seeded.NOW + timedelta(hours=1)
    p_value_rows = [m for m in view.methods if not m.higher_means_drift]
    assert {m.name for m in p_value_rows} == {"anomaly_rate", "mann_kendall"}


def test_trend_line_is_the_theil_sen_fit_of_the_shown_points(seeded_monitor: Monitor) -> None:
    view = drift.overview(seeded_monitor, FIELD)
    assert view.trend_line is not None and len(view.trend_times) == 72
    days = np.array([(t - view.trend_times[0]).total_seconds() / 86400 for t in view.trend_times])
    slope, intercept, *_ = theilslopes(view.trend_levels, days)
    t0, t1, y0, y1 = view.trend_line
    assert (t0, t1) == (view.trend_times[0], view.trend_times[-1])
    assert y0 == pytest.approx(intercept, abs=1e-6)
    assert (y1 - y0) / days[-1] == pytest.approx(slope, rel=1e-6, abs=1e-9)


def test_histograms_match_numpy_on_the_raw_rows(seeded_monitor: Monitor) -> None:
    view = drift.overview(seeded_monitor, FIELD)
    assert view.reference and view.window and len(view.reference.quantiles) == 1001
    dist = drift.distributions(seeded_monitor, FIELD, view.reference, view.window, ("mock",), bins=30)
    assert dist is not None
    with seeded_monitor.store.read() as conn:
        _, ref = Predictions(conn).values(FIELD, view.reference.span.start_ms, view.reference.span.end_ms,
                                          ("mock",))
        _, cur = Predictions(conn).values(FIELD, view.window.start_ms, view.window.end_ms, ("mock",))
    width = dist.edges[1] - dist.edges[0]
    expected_cur, _ = np.histogram(cur, bins=dist.edges)  # counted in SQL: exact
    assert dist.current_rows == cur.size
    assert np.allclose(dist.current * width * cur.size, expected_cur)
    expected_ref, _ = np.histogram(ref, bins=dist.edges)  # from 1001 frozen quantiles: within 0.1% per edge
    assert dist.reference_rows == ref.size
    assert np.abs(dist.reference * width * ref.size - expected_ref).max() <= 0.002 * ref.size + 1
    assert np.abs(dist.reference * width * ref.size - expected_ref).sum() < 0.05 * ref.size


def test_an_old_reference_without_quantiles_is_read_from_the_store(seeded_monitor: Monitor) -> None:
    view = drift.overview(seeded_monitor, FIELD)
    assert view.reference and view.window
    old = replace(view.reference, quantiles=())
    dist = drift.distributions(seeded_monitor, FIELD, old, view.window, ("mock",), bins=30)
    with seeded_monitor.store.read() as conn:
        _, ref = Predictions(conn).values(FIELD, old.span.start_ms, old.span.end_ms, ("mock",))
    expected, _ = np.histogram(ref, bins=dist.edges)
    assert np.allclose(dist.reference * (dist.edges[1] - dist.edges[0]) * ref.size, expected)


def test_run_history_lists_every_stored_run_in_order(seeded_monitor: Monitor) -> None:
    span = TimeRange.last(seeded.NOW + timedelta(hours=1), 14)
    found = drift.run_history(seeded_monitor, FIELD, span)
    with seeded_monitor.store.read() as conn:
        runs = DriftStore(conn).runs(FIELD, span.start_ms, span.end_ms)
    assert len(found.times) == len(runs) > 72
    assert found.times == sorted(found.times)
    assert found.status.count("skipped") == sum(r.status == "skipped" for r in runs)
    checked = [i for i, s in enumerate(found.status) if s != "skipped"]
    assert all(found.cusum["cusum_location"][i] is not None for i in checked)


def test_a_field_never_checked_says_so(seeded_monitor: Monitor) -> None:
    view = drift.overview(seeded_monitor, "not_a_field")
    assert (view.status, view.reference, view.methods) == ("none", None, [])
    assert drift.overview(seeded_monitor, "not_a_field").reference is None


def test_a_field_with_unchecked_pulls_says_from_when_and_a_caught_up_one_does_not(
        seeded_monitor: Monitor) -> None:
    view = drift.overview(seeded_monitor, FIELD)
    with seeded_monitor.store.read() as conn:
        times, _ = Predictions(conn).values(FIELD, 0, 2**62, seeded_monitor.analysis_sources)
    assert view.unchecked_from is None and view.checked_through == from_ms(int(times.max()))
    later = from_ms(int(times.max())) + timedelta(hours=1)
    store_hourly(seeded_monitor, FIELD, later, [500.0, 501.0])
    view = drift.overview(seeded_monitor, FIELD)
    assert view.unchecked_from == later and view.checked_through == from_ms(int(times.max()))
