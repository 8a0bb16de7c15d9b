"""Retention: old rows go in short batches, once a day, never what detection still needs."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.detection import DriftService
from monitoring.errors import StoreError
from monitoring.pipeline import Pipeline
from monitoring.retention import Retention
from monitoring.sources import Fetched, MockSource
from monitoring.store import DriftStore, Metrics, Predictions, Pulls, Rejected, RuntimeState
from monitoring.timeutil import to_ms

ADMIN = Actor("admin", "admin")
HOUR_MS = 3_600_000
FIELD = "archived_gb_predicted"


class WithBadRow:
    """Simulated rows plus one out-of-range row per pull, so quarantine fills up too."""

    name = "mock"

    def fetch(self, slot) -> Fetched:
        fetched = MockSource().fetch(slot)
        bad = {"archived_gb_predicted": -5.0, "savings_gb_predicted": 1.0, "confidence_interval": 0.5}
        return replace(fetched, items=[*fetched.items, bad])


def _history(monitor: Monitor, clock, days: int, detector=None) -> None:
    """``days`` of 6-hourly cycles through the real pipeline, ending at ``clock()``."""
    pipeline = Pipeline(monitor, WithBadRow(), detector=detector)
    for _ in range(days * 4):
        pipeline.run_cycle(clock(), "scheduled")
        with monitor.store.transaction() as conn:  # one drift run per cycle, as detection writes
            DriftStore(conn).add_run(to_ms(clock()), FIELD, None, "skipped", False, None, "test", {})
        clock.advance(hours=6)


def _freeze_references(monitor: Monitor, clock) -> None:
    """Every monitored field has an active reference (a stored model; no rows needed)."""
    with monitor.store.transaction() as conn:
        for field in monitor.settings.effective()["monitored_fields"]:
            DriftStore(conn).add_reference(field, to_ms(clock()), "test", 0, 1, 1, "mock",
                                           {"stored": "model"}, "test reference")


def _oldest(monitor: Monitor) -> dict[str, int | None]:
    with monitor.store.read() as conn:
        q = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {"predictions": q("SELECT min(predicted_at) FROM predictions"),
                "rollups": q("SELECT min(hour_at) FROM field_rollup"),
                "rejected_rows": q("SELECT min(received_at) FROM rejected_rows"),
                "pulls": q("SELECT min(started_at) FROM pulls"),
                "drift_runs": q("SELECT min(run_at) FROM drift_runs"),
                "op_metrics": q("SELECT min(at) FROM op_metrics")}


def aged_pulls(monitor: Monitor) -> int:
    with monitor.store.read() as conn:
        return Pulls(conn).count()


@pytest.fixture
def aged(monitor: Monitor, clock) -> Monitor:
    monitor.settings.update(ADMIN, {"pull_interval_minutes": 360, "retention_days": 7,
                                    "metrics_retention_days": 2})
    _history(monitor, clock, days=10)
    _freeze_references(monitor, clock)
    return monitor


def test_rows_past_retention_go_in_bounded_batches_and_the_rest_stays(aged: Monitor, clock) -> None:
    with aged.store.read() as conn:
        before = {"predictions": Predictions(conn).count(), "pulls": Pulls(conn).count(),
                  "rejected": Rejected(conn).count()}
    retention = Retention(aged, max_batch=25)
    report = retention(clock(), "scheduled")
    assert report is not None and report.complete
    rows_cutoff = to_ms(clock() - timedelta(days=7))
    metrics_cutoff = to_ms(clock() - timedelta(days=2))
    assert to_ms(report.predictions_before) == rows_cutoff - rows_cutoff % HOUR_MS
    oldest = _oldest(aged)
    for table in ("predictions", "rollups", "rejected_rows", "drift_runs"):
        assert oldest[table] >= to_ms(report.predictions_before), table
    assert oldest["op_metrics"] >= metrics_cutoff - metrics_cutoff % HOUR_MS
    assert aged_pulls(aged) == before["pulls"]  # pull records are the audit trail: kept
    # about 3 of 10 days went, and nothing newer
    assert 0.25 < report.deleted["predictions"] / before["predictions"] < 0.35
    assert "pulls" not in report.deleted and report.deleted["rejected_rows"] >= 11
    assert report.deleted["op_metrics"] > 0 and report.deleted["drift_runs"] == 12
    # short transactions: never more than max_batch rows each, so many of them
    assert retention.largest_batch <= 25 and retention.batches > report.deleted["predictions"] / 25
    with aged.store.read() as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        counted = conn.execute("SELECT source, count(*) FROM predictions GROUP BY source").fetchall()
        assert dict(counted) == Predictions(conn).count_by_source()  # rollups still add up
        state = RuntimeState(conn).get("retention")
        assert state["complete"] and state["deleted"] == report.deleted
        assert Metrics(conn).samples("retention_deleted_rows", 0, 2**62)[-1][1] == sum(
            report.deleted.values())


def test_it_runs_at_most_once_a_day_and_only_after_real_cycles(aged: Monitor, clock) -> None:
    retention = Retention(aged)
    assert retention(clock(), "backfill") is None and retention(clock(), "replay") is None
    assert retention(clock(), "scheduled") is not None
    clock.advance(hours=23)
    assert retention(clock(), "scheduled") is None  # done today
    clock.advance(hours=1)
    again = retention(clock(), "manual")
    assert again is not None and again.deleted["predictions"] > 0  # the next day's rows


def test_a_run_that_reaches_its_budget_continues_next_cycle(aged: Monitor, clock) -> None:
    seconds = itertools.count()
    slow = Retention(aged, budget_seconds=3, max_batch=10, timer=lambda: float(next(seconds)))
    first = slow(clock(), "scheduled")
    assert first is not None and not first.complete
    assert first.deleted == {"predictions": 10}  # one batch, then the budget was spent
    assert Retention(aged).due(clock())  # incomplete: due again at once, not tomorrow
    second = Retention(aged)(clock(), "scheduled")
    assert second.complete and second.deleted["predictions"] > 0
    aged.stopping.set()  # shutting down: stops before the next batch
    clock.advance(days=2)
    stopped = Retention(aged)(clock(), "scheduled")
    assert stopped is not None and not stopped.complete and stopped.deleted == {"predictions": 0}


def test_rows_a_reference_will_be_fitted_from_are_kept(monitor: Monitor, clock) -> None:
    monitor.settings.update(ADMIN, {"pull_interval_minutes": 360, "retention_days": 7,
                                    "metrics_retention_days": 2, "reference_min_days": 20})
    _history(monitor, clock, days=10)  # no reference yet: it needs 20 days of rows
    report = Retention(monitor)(clock(), "scheduled")
    assert report.deleted["predictions"] == 0 and report.deleted["rejected_rows"] == 0
    assert report.predictions_before <= clock() - timedelta(days=21)
    assert report.deleted["op_metrics"] > 0  # metrics are not held back


def test_detection_keeps_working_after_its_reference_rows_are_deleted(monitor: Monitor, clock) -> None:
    """A reference is a stored fitted model: its raw rows are not needed once it is frozen."""
    monitor.settings.update(ADMIN, {"pull_interval_minutes": 360, "retention_days": 7,
                                    "monitored_fields": [FIELD]})
    pipeline = Pipeline(monitor, MockSource(), detector=DriftService(monitor))
    for _ in range(12 * 4):
        pipeline.run_cycle(clock(), "scheduled")
        clock.advance(hours=6)
    with monitor.store.read() as conn:
        reference = DriftStore(conn).active_reference(FIELD)
    assert reference is not None
    report = Retention(monitor)(clock(), "scheduled")
    assert report.deleted["predictions"] > 0
    assert to_ms(report.predictions_before) > reference.start_at  # part of its window is gone
    fresh = Pipeline(monitor, MockSource(), detector=DriftService(monitor))  # no cached model
    result = fresh.run_cycle(clock(), "scheduled")
    assert not result.errors and [c.status for c in result.checks] == ["ok"]
    with monitor.store.read() as conn:
        assert DriftStore(conn).active_reference(FIELD).id == reference.id


def test_the_pipeline_runs_maintenance_after_a_cycle_and_survives_its_failure(monitor, clock) -> None:
    def broken(now, kind):
        raise StoreError("database write failed: disk I/O error")

    report = Pipeline(monitor, MockSource(), maintenance=broken).run_cycle(clock(), "scheduled")
    assert report.pull.outcome == "ok" and not report.errors
    Pipeline(monitor, MockSource(), maintenance=Retention(monitor)).run_cycle(clock(), "scheduled")
    with monitor.store.read() as conn:
        assert RuntimeState(conn).get("retention")["complete"] is True
        # throughput per cycle; the second cycle re-ran the same slot and kept its pull: nothing new
        assert [s[1] for s in Metrics(conn).samples("cycle_rows_stored", 0, 2**62)] == [20.0, 0.0]
