"""Alerts, metrics and status read models on the seeded store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.store import Pulls
from monitoring.views import alerts, ops, status
from monitoring.views.common import TIMINGS, PageTimings, TimeRange, timed
from tests.support import seeded

ANN = Actor("ann", "analyst")


ARCHIVED = "archived_gb_predicted"


def test_views_filter_by_status_severity_field_and_snooze(seeded_monitor: Monitor) -> None:
    open_rows = alerts.list_alerts(seeded_monitor, "open")
    assert [r["opened"] for r in open_rows] == sorted((r["opened"] for r in open_rows), reverse=True)
    assert {r["field"] for r in open_rows} == {ARCHIVED, "—", "confidence_interval"}  # "—": operational
    assert [r["severity"] for r in alerts.list_alerts(seeded_monitor, "open", field=ARCHIVED)] == ["critical"]
    assert alerts.list_alerts(seeded_monitor, "open", field="savings_gb_predicted") == []
    assert all(r["severity"] == "critical" for r in alerts.list_alerts(seeded_monitor, "open", ("critical",)))
    critical = alerts.list_alerts(seeded_monitor, "open", ("critical",), ARCHIVED)[0]["id"]
    seeded_monitor.alerts.snooze(ANN, critical, 2, "after the deploy")
    assert "snoozed" in alerts.list_alerts(seeded_monitor, "open", field=ARCHIVED)[0]["status"]
    assert alerts.list_alerts(seeded_monitor, "open", field=ARCHIVED, include_snoozed=False) == []
    before = alerts.counts(seeded_monitor)
    seeded_monitor.alerts.acknowledge(ANN, critical, "mine")
    assert alerts.counts(seeded_monitor) == {**before, "open": before["open"] - 1,
                                             "acknowledged": before["acknowledged"] + 1}


def test_detail_has_events_and_the_field_around_the_episode(seeded_monitor: Monitor) -> None:
    critical = alerts.list_alerts(seeded_monitor, "open", ("critical",), ARCHIVED)[0]["id"]
    seeded_monitor.alerts.acknowledge(ANN, critical, "looking")
    detail = alerts.detail(seeded_monitor, critical, ("mock",))
    assert detail is not None and detail.window is not None
    assert [e["action"] for e in alerts.event_rows(detail.events)] == ["opened", "acknowledged"]
    assert detail.window.start <= alerts.opened_marker(detail.alert) - timedelta(days=6)
    assert len(detail.series) > 100
    operational = next(r["id"] for r in alerts.list_alerts(seeded_monitor, "open") if r["field"] == "—")
    assert alerts.detail(seeded_monitor, operational, ("mock",)).series == []
    assert alerts.detail(seeded_monitor, 999_999, ("mock",)) is None


def test_latency_percentiles_match_numpy(seeded_monitor: Monitor) -> None:
    span = TimeRange.last(seeded.NOW + timedelta(hours=1), 2)
    with seeded_monitor.store.transaction() as conn:  # endpoint-like latencies to aggregate
        conn.execute("UPDATE pulls SET latency_ms = id * 7 % 101, kind = 'scheduled' WHERE started_at >= ?",
                     (span.start_ms,))
    lat = ops.pull_latency(seeded_monitor, span, max_points=4)  # 12-hour buckets
    with seeded_monitor.store.read() as conn:
        samples = Pulls(conn).latencies(span.start_ms, span.end_ms)
    at = np.array([s[0] for s in samples])
    ms = np.array([s[1] for s in samples])
    assert sum(lat.counts) == ms.size >= 47
    for i, start in enumerate(lat.times):
        key = int(start.timestamp() * 1000)
        chunk = ms[(at >= key) & (at < key + 12 * 3_600_000)]
        assert lat.counts[i] == chunk.size
        assert [lat.p50[i], lat.p95[i], lat.p99[i]] == pytest.approx(
            np.percentile(chunk, [50, 95, 99]).tolist())


def test_outcomes_and_store_facts(seeded_monitor: Monitor) -> None:
    rows = ops.outcomes(seeded_monitor, TimeRange.last(seeded.NOW + timedelta(hours=1), 30))
    assert sum(r["pulls"] for r in rows) == ops.store_facts(seeded_monitor).pulls
    facts = ops.store_facts(seeded_monitor)
    assert facts.rows == {"simulated": 240 * 20} and facts.rejected == 1 and facts.size_mb > 0
    assert ops.breaker_state(seeded_monitor) is None  # demo mode: no endpoint, no breaker


def test_sidebar_status_in_demo_mode(seeded_monitor: Monitor) -> None:
    assert status.data_source(seeded_monitor).kind == "demo"
    assert status.health(seeded_monitor).status in ("healthy", "degraded", "unhealthy")


def test_page_timings_are_buffered_then_flushed_as_metrics(seeded_monitor: Monitor) -> None:
    timings = PageTimings(limit=2)
    for i in range(3):
        timings.record(1000 + i, "x", float(i))
    assert timings.flush(seeded_monitor.store) == 2  # bounded: a burst never grows memory
    assert timings.flush(seeded_monitor.store) == 0
    TIMINGS.drain()
    with timed("views.test"):
        pass
    assert [s[3] for s in TIMINGS.drain()] == ["views.test"]


def test_op_summary_lists_what_a_real_cycle_and_a_page_query_recorded(seeded_monitor: Monitor) -> None:
    from monitoring import lifecycle

    monitor = seeded_monitor
    monitor.clock.advance(hours=1)
    lifecycle.build_pipeline(monitor).run_cycle(monitor.clock(), "scheduled")  # pull + drift check
    TIMINGS.drain()
    alerts.list_alerts(monitor, "open")  # a page query, timed into the buffer (at wall-clock time)
    span = TimeRange(monitor.clock() - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=1))
    assert TIMINGS.flush(monitor.store) >= 1
    rows = ops.op_summary(monitor, span)
    by_metric = {(r["metric"], r["label"]): r for r in rows}
    assert {"cycle_ms", "cycle_rows_stored", "drift_check_ms", "page_query_ms"} <= {m for m, _ in by_metric}
    assert by_metric[("cycle_rows_stored", "mock")]["max"] == 20.0  # throughput: the cycle's rows
    assert ("page_query_ms", "alerts.list") in by_metric  # page latencies, per query
    assert {lab for m, lab in by_metric if m == "drift_check_ms"} >= {ARCHIVED, "confidence_interval"}


def test_op_summary_quantiles_match_numpy_per_metric_and_label(seeded_monitor: Monitor) -> None:
    from monitoring.store import Metrics

    rng = np.random.default_rng(7)
    samples = {("a_ms", "x"): rng.exponential(30, 101), ("a_ms", "y"): rng.normal(5, 1, 7),
               ("b_ms", ""): np.array([4.0])}
    start = 10**12
    with seeded_monitor.store.transaction() as conn:
        Metrics(conn).add_many([(start + i, name, float(v), lab) for (name, lab), values in samples.items()
                                for i, v in enumerate(values)])
    with seeded_monitor.store.read() as conn:
        rows = Metrics(conn).summary(start, start + 1000)
    assert [(n, lab) for n, lab, *_ in rows] == sorted(samples)
    for name, lab, count, mean, p95, top in rows:
        values = samples[(name, lab)]
        assert (count, top) == (values.size, pytest.approx(values.max()))
        assert (mean, p95) == (pytest.approx(values.mean()), pytest.approx(np.percentile(values, 95)))
