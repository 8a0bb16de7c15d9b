"""``run_cycle(now)``: fetch -> validate -> store -> detect -> alert, once per slot.

Steps commit separately and in order: the pull (with its rows and quarantine) is
one transaction, detection and alerting another. A detection failure therefore never
loses a pull, and the next cycle's detector picks up every pull it has not yet seen.
Failures are recorded and logged, never raised out of the cycle, so the scheduler
keeps running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from monitoring import events
from monitoring.alerts import Changes, Signal, apply_signals, ops_fingerprint
from monitoring.budget import Budget
from monitoring.context import Monitor
from monitoring.errors import MonitoringError
from monitoring.ingest import PullResult, fetch_with_fallback, store_pull
from monitoring.notify.policy import cycle_scope
from monitoring.scheduler import slot_start
from monitoring.sources import MockSource, Source
from monitoring.store import Metrics, Pulls, RuntimeState
from monitoring.telemetry import log_context, new_id
from monitoring.timeutil import iso, to_ms

log = logging.getLogger(__name__)
LAST_CYCLE_KEY = "last_cycle"


class Detector(Protocol):
    def run(self, now: datetime, settings: dict[str, Any], budget: Budget | None = None
            ) -> tuple[list[Any], Changes]: ...


BUDGETED_KINDS = ("scheduled", "manual")  # replays and the demo backfill check every pull in-cycle


@dataclass
class CycleReport:
    cycle_id: str
    slot: datetime
    pull: PullResult | None = None
    checks: list[Any] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    duration_ms: float = 0.0
    errors: list[str] = field(default_factory=list)
    pull_reused: bool = False  # a re-run of the slot kept its stored pull: nothing new this cycle
    drift_deferred: dict[str, str] = field(default_factory=dict)  # field -> drift work left for later

    @property
    def new_rows(self) -> tuple[int, int]:
        """(stored, rejected) by this cycle: zero when the slot's earlier pull was kept."""
        if self.pull is None or self.pull_reused:
            return 0, 0
        return self.pull.rows_stored, self.pull.rows_rejected


@dataclass
class CatchUp:
    """What ``Pipeline.catch_up`` did: passes run, pulls checked, alert changes, work still left."""

    passes: int = 0
    checks: int = 0
    changes: Changes = field(default_factory=Changes)
    deferred: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


class Pipeline:
    """One monitor's cycle: its source, fallback, detector and operational alerts."""

    def __init__(self, monitor: Monitor, source: Source, *, detector: Detector | None = None,
                 fallback: MockSource | None = None,
                 breaker_state: Callable[[], str | None] = lambda: None,
                 on_changes: Callable[[Changes], None] | None = None,
                 maintenance: Callable[[datetime, str], Any] | None = None,
                 drift_budget_seconds: float | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.monitor = monitor
        self.source = source
        self.detector = detector
        self.fallback = fallback or MockSource()
        self.breaker_state = breaker_state
        self.on_changes = on_changes
        self.maintenance = maintenance  # e.g. retention, run after the cycle is recorded
        self.drift_budget_seconds = drift_budget_seconds
        self.timer = timer

    def run_cycle(self, now: datetime, kind: str = "scheduled") -> CycleReport:
        """Run every step for the slot containing ``now``; never raises for a failed step."""
        started = time.perf_counter()
        settings = self.monitor.settings.effective()
        interval = timedelta(minutes=int(settings["pull_interval_minutes"]))
        slot = slot_start(now, interval) if kind != "replay" else now
        report = CycleReport(new_id(), slot)
        with (log_context(cycle_id=report.cycle_id, cycle_kind=kind),
              cycle_scope(kind, self.monitor.config.demo_mode)):
            previous = self._previous_cycle_at()
            try:
                report.pull = self._already_pulled(slot, kind)
                report.pull_reused = report.pull is not None
                if report.pull is None:
                    fetched = fetch_with_fallback(self.source, slot, bool(settings["mock_fallback"]),
                                                  self.fallback)
                    report.pull = store_pull(self.monitor, fetched, slot, now, self.monitor.clock(),
                                             kind, settings, report.cycle_id)
            except MonitoringError as exc:
                report.errors.append(f"store: {exc}")
                log.error("could not store the pull for %s: %s", iso(slot), exc)
                events.emit(events.CYCLE_STEP_FAILED, {"step": "store"}, error=exc)
            if self.detector is not None:
                budget = Budget(self.drift_budget_seconds if kind in BUDGETED_KINDS else None, self.timer)
                try:
                    report.checks, report.changes = self.detector.run(now, settings, budget)
                except MonitoringError as exc:
                    report.errors.append(f"detect: {exc}")
                    log.error("drift detection failed; it will catch up next cycle: %s", exc)
                    events.emit(events.CYCLE_STEP_FAILED, {"step": "detect"}, error=exc)
                report.drift_deferred = dict(budget.deferred)
                if budget.deferred:
                    log.info("drift work left for the catch-up after this cycle: %s",
                             "; ".join(f"{k}: {v}" for k, v in budget.deferred.items()))
            try:
                ops = self._ops_signals(now, previous, interval, settings, kind)
                if ops:
                    with self.monitor.store.transaction() as conn:
                        extra = apply_signals(conn, ops, to_ms(now),
                                              int(settings["resolve_after_clean_checks"]))
                    report.changes.merge(extra)
            except MonitoringError as exc:
                report.errors.append(f"alerts: {exc}")
                log.error("operational alerts failed: %s", exc)
                events.emit(events.CYCLE_STEP_FAILED, {"step": "alerts"}, error=exc)
            report.duration_ms = (time.perf_counter() - started) * 1000
            self._finish(now, report)
            self._after(now, kind, report)
        if self.on_changes and report.changes.any:
            self.on_changes(report.changes)
        return report

    def catch_up(self, now: datetime, max_seconds: float | None = None) -> CatchUp:
        """Run budgeted drift passes until nothing is deferred (or ``max_seconds``, or shutdown).

        Each pass commits what it checked, so an interruption loses nothing; what is
        still deferred when the time is up continues after the next cycle.
        """
        out = CatchUp()
        if self.detector is None:
            return out
        started = self.timer()
        deferred = True
        while deferred and not self.monitor.stopping.is_set():
            if max_seconds is not None and self.timer() - started >= max_seconds:
                break
            settings = self.monitor.settings.effective()
            budget = Budget(self.drift_budget_seconds, self.timer)
            try:
                checks, changes = self.detector.run(now, settings, budget)
            except MonitoringError as exc:
                out.error = str(exc)
                log.error("drift catch-up failed; it continues after the next cycle: %s", exc)
                break
            out.passes += 1
            out.checks += len(checks)
            out.changes.merge(changes)
            out.deferred = dict(budget.deferred)
            deferred = bool(budget.deferred)
        out.seconds = self.timer() - started
        if out.passes:
            log.info("drift catch-up: %d check(s) in %d pass(es), %.1f s%s", out.checks, out.passes,
                     out.seconds, f"; still deferred: {', '.join(out.deferred)}" if out.deferred else "")
        events.emit_alert_changes(out.changes)
        if self.on_changes and out.changes.any:
            self.on_changes(out.changes)
        return out

    def _already_pulled(self, slot: datetime, kind: str) -> PullResult | None:
        """A scheduled slot whose pull committed before the process died is not pulled again.

        The lease frees a slot whose cycle never finished, so a restart re-runs it; a second
        pull would store the slot's predictions twice (or a second, empty pull record). The
        re-run keeps the stored pull and does the rest: detection, alerts, the cycle record.
        """
        if kind != "scheduled":
            return None
        with self.monitor.store.read() as conn:
            done = Pulls(conn).stored_for_slot(to_ms(slot), kind)
        if done is None:
            return None
        log.info("slot %s already has pull #%s (a re-run after an interrupted cycle); not pulling again",
                 iso(slot), done.id)
        return PullResult(int(done.id or 0), done.outcome, done.source, done.rows_received, done.rows_stored,
                          done.rows_rejected, done.error)

    def _after(self, now: datetime, kind: str, report: CycleReport) -> None:
        """Tell subscribers what the cycle did, then run maintenance (never raises)."""
        pull = report.pull
        events.emit(events.CYCLE, {
            "slot": iso(report.slot), "outcome": pull.outcome if pull else "error",
            "source": pull.source if pull else None, "errors": len(report.errors)}, {
            "duration_ms": report.duration_ms, "rows_stored": report.new_rows[0],
            "rows_rejected": report.new_rows[1], "checks": len(report.checks),
            "alerts_opened": len(report.changes.opened),
            "alerts_escalated": len(report.changes.escalated),
            "alerts_resolved": len(report.changes.resolved)})
        events.emit_alert_changes(report.changes)
        if self.maintenance is not None:
            try:
                self.maintenance(now, kind)
            except MonitoringError as exc:
                log.error("maintenance after the cycle failed; it retries next cycle: %s", exc)
            except Exception:  # noqa: BLE001 - housekeeping must not fail a cycle that succeeded
                log.exception("maintenance after the cycle crashed; it retries next cycle")

    def _previous_cycle_at(self) -> datetime | None:
        try:
            with self.monitor.store.read() as conn:
                value = RuntimeState(conn).get(LAST_CYCLE_KEY)
        except MonitoringError:
            return None
        return datetime.fromisoformat(value["at"]) if value else None

    def _ops_signals(self, now: datetime, previous: datetime | None, interval: timedelta,
                     settings: dict[str, Any], kind: str) -> list[Signal]:
        signals: list[Signal] = []
        if kind == "scheduled" and previous is not None:
            gap = now - previous
            limit = interval * float(settings["scheduler_stale_factor"])
            signals.append(Signal(
                ops_fingerprint("scheduler_stale"), "operational", "scheduler_stale", gap > limit,
                "warning", "Scheduler missed its runs",
                details={"gap_minutes": round(gap.total_seconds() / 60, 1),
                         "previous_cycle_at": iso(previous)}))
        if self.monitor.config.demo_mode or kind in ("replay", "backfill"):
            return signals
        with self.monitor.store.read() as conn:
            failures = Pulls(conn).consecutive_failures()
        threshold = int(settings["endpoint_failures_before_alert"])
        signals.append(Signal(
            ops_fingerprint("endpoint_failing"), "operational", "endpoint_failing",
            failures >= threshold, "critical" if failures >= 2 * threshold else "warning",
            "Scoring endpoint failing", details={"consecutive_failures": failures}))
        breaker = self.breaker_state()
        if breaker is not None:
            signals.append(Signal(ops_fingerprint("breaker_open"), "operational", "breaker_open",
                                  breaker == "open", "warning", "Circuit breaker open",
                                  details={"state": breaker}))
        return signals

    def _finish(self, now: datetime, report: CycleReport) -> None:
        at = to_ms(now)
        try:
            with self.monitor.store.transaction() as conn:
                RuntimeState(conn).put(LAST_CYCLE_KEY, {
                    "at": now.isoformat(), "cycle_id": report.cycle_id,
                    "outcome": report.pull.outcome if report.pull else None,
                    "errors": report.errors, "drift_deferred": report.drift_deferred}, at)
                Metrics(conn).add(at, "cycle_ms", report.duration_ms,
                                  "error" if report.errors else "ok")
                Metrics(conn).add(at, "cycle_rows_stored",  # throughput: rows per cycle
                                  float(report.new_rows[0]), report.pull.source if report.pull else "")
        except MonitoringError as exc:
            log.error("could not record the cycle: %s", exc)
