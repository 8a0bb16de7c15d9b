"""Retention: delete what is past its keep period, once a day, in short batches.

``retention_days`` covers predictions with their hourly rollups, quarantined rows and
drift runs; ``metrics_retention_days`` covers ``op_metrics`` and finished notifications.
Alerts, their events, the audit log and pull records are never deleted: a pull is one
small row per interval (8,760 a year at the default), the record of what the monitor
did, and deleting one makes SQLite scan ``predictions`` for its foreign key. The step
runs after a scheduled or manual cycle (so under the pull lease: one instance does it)
at most once per ``every``, as recorded in ``runtime_state``. Each batch is its own
short transaction whose size adapts to take about ``target_batch_seconds``, so the
dashboard's writes interleave and a huge backlog (e.g. after lowering the setting) never
holds the write lock for long; a run that reaches its time budget is recorded incomplete
and goes on next cycle.

Drift references do not need their raw rows: a reference is stored as a fitted model
(``drift_references.model``, retargeted from stored curves when settings change), and
the detector reads only rows newer than its saved state. The one exception is a
monitored field without a reference yet: its first rows are what will be fitted, so
until then rows younger than ``reference_min_days`` + 1 day are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitoring import events
from monitoring.context import Monitor
from monitoring.store import Connection, DriftStore, Metrics, Outbox, Predictions, Rejected, RuntimeState
from monitoring.timeutil import from_ms, iso, to_ms

log = logging.getLogger(__name__)

STATE_KEY = "retention"
RUN_KINDS = ("scheduled", "manual")
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class RetentionReport:
    at: datetime
    predictions_before: datetime
    metrics_before: datetime
    deleted: dict[str, int] = field(default_factory=dict)
    complete: bool = True
    duration_ms: float = 0.0

    def to_state(self) -> dict[str, Any]:
        state = asdict(self)
        state.update(at=self.at.isoformat(), predictions_before=iso(self.predictions_before),
                     metrics_before=iso(self.metrics_before))
        return state


Step = Callable[[Connection, int], int]


class Retention:
    """The daily maintenance step; call it as ``retention(now, kind)`` after a cycle."""

    def __init__(self, monitor: Monitor, *, every: timedelta = timedelta(days=1),
                 budget_seconds: float = 20.0, target_batch_seconds: float = 0.25,
                 max_batch: int = 5000, timer: Callable[[], float] = time.perf_counter) -> None:
        self.monitor = monitor
        self.every = every
        self.budget = budget_seconds
        self.target = target_batch_seconds
        self.max_batch = max_batch
        self.timer = timer
        self.batches = 0  # transactions used by the last run, and the largest (tests, logs)
        self.largest_batch = 0

    def __call__(self, now: datetime, kind: str = "scheduled") -> RetentionReport | None:
        return self.run_if_due(now, kind)

    def last(self) -> dict[str, Any] | None:
        with self.monitor.store.read() as conn:
            return RuntimeState(conn).get(STATE_KEY)

    def due(self, now: datetime) -> bool:
        state = self.last()
        if not state or not state.get("complete"):
            return True
        return now - datetime.fromisoformat(state["at"]) >= self.every

    def run_if_due(self, now: datetime, kind: str = "scheduled") -> RetentionReport | None:
        """Run unless it ran (completely) within ``every``; replays and backfills never run it."""
        if kind not in RUN_KINDS or not self.due(now):
            return None
        return self.run(now)

    def cutoffs(self, now: datetime, settings: dict[str, Any]) -> tuple[int, int]:
        """(predictions, metrics) cutoffs in epoch ms, on hour boundaries."""
        keep = now - timedelta(days=int(settings["retention_days"]))
        with self.monitor.store.read() as conn:
            drift = DriftStore(conn)
            unfitted = [f for f in settings["monitored_fields"] if drift.active_reference_id(f) is None]
        if unfitted:  # those fields' references will be fitted from these rows
            keep = min(keep, now - timedelta(days=float(settings["reference_min_days"]) + 1))
        metrics = to_ms(now - timedelta(days=int(settings["metrics_retention_days"])))
        rows = to_ms(keep)
        return rows - rows % HOUR_MS, metrics - metrics % HOUR_MS

    def run(self, now: datetime) -> RetentionReport:
        started = self.timer()
        deadline = started + self.budget
        settings = self.monitor.settings.effective()
        rows_before, metrics_before = self.cutoffs(now, settings)
        self.batches = self.largest_batch = 0
        steps: list[tuple[str, Step, int]] = [
            ("predictions", lambda c, n: Predictions(c).delete_rows_before(rows_before, n), 500),
            ("rollups", lambda c, n: Predictions(c).delete_rollups_before(rows_before, n), 500),
            ("rejected_rows", lambda c, n: Rejected(c).delete_before(rows_before, n), 500),
            ("drift_runs", lambda c, n: DriftStore(c).delete_runs_before(rows_before, n), 500),
            ("op_metrics", lambda c, n: Metrics(c).delete_before(metrics_before, n), 500),
            ("notifications", lambda c, n: Outbox(c).delete_finished_before(metrics_before), 500),
        ]
        deleted: dict[str, int] = {}
        complete = True
        for name, step, first in steps:
            deleted[name], complete = self._drain(step, first, deadline)
            if not complete:
                break
        report = RetentionReport(now, from_ms(rows_before), from_ms(metrics_before), deleted,
                                 complete, (self.timer() - started) * 1000)
        self._record(report)
        return report

    def _drain(self, step: Step, batch: int, deadline: float) -> tuple[int, bool]:
        """Run ``step`` in transactions until it deletes less than asked; False on budget/stop."""
        total, batch = 0, min(batch, self.max_batch)
        while True:
            if self.monitor.stopping.is_set() or self.timer() >= deadline:
                return total, False
            started = self.timer()
            with self.monitor.store.transaction() as conn:
                count = step(conn, batch)
            self.batches += 1
            self.largest_batch = max(self.largest_batch, count)
            total += count
            if count < batch:
                return total, True
            elapsed = self.timer() - started
            if elapsed < self.target / 2:
                batch = min(batch * 2, self.max_batch)
            elif elapsed > self.target:
                batch = max(1, batch // 2)

    def _record(self, report: RetentionReport) -> None:
        at = to_ms(report.at)
        total = sum(report.deleted.values())
        with self.monitor.store.transaction() as conn:
            RuntimeState(conn).put(STATE_KEY, report.to_state(), at)
            Metrics(conn).add_many([(at, "retention_ms", report.duration_ms, ""),
                                    (at, "retention_deleted_rows", float(total), "")])
        level = logging.INFO if total or not report.complete else logging.DEBUG
        log.log(level, "retention %s: deleted %d row(s) in %.0f ms",
                "done" if report.complete else "paused (continues next cycle)", total,
                report.duration_ms, extra={"deleted": report.deleted, "batches": self.batches})
        events.emit(events.RETENTION, {
            "complete": report.complete, "predictions_before": iso(report.predictions_before),
            "metrics_before": iso(report.metrics_before)},
            {"duration_ms": report.duration_ms, "batches": self.batches,
             **{f"deleted_{k}": v for k, v in report.deleted.items()}})
