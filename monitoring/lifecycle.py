"""Start and stop the background work of one server process, exactly once.

``app.py``'s lifespan calls ``start()`` and ``stop()``; pages never do. ``start``
opens the store, builds the cycle (endpoint or simulated source, detector,
notifications, telemetry), starts the scheduler and, on a first demo start,
backfills a week of labelled simulated history in the scheduler thread so the
server answers at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from health.checker import UNHEALTHY, Check, HealthChecker, HealthStatus
from health.service import HealthService
from monitoring.context import Monitor, open_monitor, set_current
from monitoring.errors import ConfigError, MonitoringError, StoreError, WrongKeyError
from monitoring.mock import MockProfile
from monitoring.pipeline import Pipeline
from monitoring.retention import Retention
from monitoring.scheduler import PullScheduler, slot_start
from monitoring.sources import MockSource, Source
from monitoring.store import Predictions
from monitoring.timeutil import to_ms, utcnow
from monitoring.views.common import TIMINGS

log = logging.getLogger(__name__)

BACKFILL_DAYS = 10  # a week freezes the reference; the rest shows checks at once
DEMO_INCIDENT_HOURS = 30
RETRY_OPEN_SECONDS = 30.0
_running: Background | Waiting | None = None


def running() -> Background | Waiting | None:
    """The process's started background (None under AppTest or before the lifespan ran)."""
    return _running


@dataclass
class Background:
    """Everything one server process runs besides Streamlit itself."""

    monitor: Monitor
    pipeline: Pipeline
    scheduler: PullScheduler
    health: HealthService
    extras: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        global _running
        _running = None
        self.monitor.stopping.set()  # long work (backfill, catch-up) ends at its next step
        self.scheduler.stop(wait=True)
        for closer in self.extras.get("closers", []):
            try:
                closer()
            except Exception:  # noqa: BLE001 - shutdown must finish
                log.exception("error while shutting down")
        self.monitor.close()
        set_current(None)


def build_source(monitor: Monitor) -> Source:
    if monitor.config.endpoint is None:
        return MockSource()
    from monitoring.endpoint import EndpointSource

    return EndpointSource(monitor.config.endpoint, monitor.settings.effective)


def build_pipeline(monitor: Monitor, source: Source | None = None) -> Pipeline:
    from monitoring.detection import DriftService
    from monitoring.notify.delivery import deliver_now

    source = source or build_source(monitor)
    breaker: Callable[[], str | None] = getattr(source, "breaker_state", lambda: None)
    # Without a scheduler (run-once), notifications go out inline; _start_with defers them.
    return Pipeline(monitor, source, detector=DriftService(monitor), breaker_state=breaker,
                    on_changes=lambda _changes: deliver_now(monitor),
                    maintenance=Retention(monitor),
                    drift_budget_seconds=monitor.config.drift_budget_seconds)


def backfill(monitor: Monitor, pipeline: Pipeline, now: datetime, days: int = BACKFILL_DAYS) -> int:
    """Demo mode's first start: simulated pulls through the real cycle, with a short incident.

    The last ``DEMO_INCIDENT_HOURS`` of the backfill simulate a drop in model confidence,
    so a new user sees the detector catch a change and the alert workflow at once; the
    live simulated pulls after it are normal again, so the alert later resolves itself.
    """
    with monitor.store.read() as conn:
        if Predictions(conn).count(["mock"]) > 0:
            return 0
    interval = timedelta(minutes=int(monitor.settings.effective()["pull_interval_minutes"]))
    current = slot_start(now, interval)
    slot = current - timedelta(days=days)
    incident = (to_ms(current - timedelta(hours=DEMO_INCIDENT_HOURS)), to_ms(current))
    demo = Pipeline(monitor, MockSource(MockProfile(incident=incident)), detector=pipeline.detector,
                    breaker_state=pipeline.breaker_state)
    cycles = 0
    while slot < current and not monitor.stopping.is_set():
        demo.run_cycle(slot, "backfill")
        slot += interval
        cycles += 1
    log.info("backfilled %d simulated pulls so the dashboard has history", cycles)
    return cycles


class _StoreDown:
    """A health checker for when the store cannot be opened: unhealthy, with the reason."""

    def __init__(self, reason: str, clock: Callable[[], datetime]) -> None:
        self.reason = reason
        self.clock = clock

    def check(self) -> HealthStatus:
        detail = f"the store cannot be opened: {self.reason}; retrying every {RETRY_OPEN_SECONDS:g} s"
        return HealthStatus(UNHEALTHY, (Check("database", UNHEALTHY, detail),), self.clock(), 0.0)


class Waiting:
    """Started without a store (full or read-only disk, share not mounted): no crash loop.

    The server keeps answering ``/health`` (503 with the reason) and retries opening
    the store; once it opens, the real background starts and replaces this one.
    """

    monitor = None

    def __init__(self, error: Exception, retry_seconds: float | None = None) -> None:
        self.error = error
        self.health = HealthService(_StoreDown(str(error), utcnow), max_age_seconds=1.0)
        self._stop = threading.Event()
        self._retry_seconds = retry_seconds or RETRY_OPEN_SECONDS
        self._thread = threading.Thread(target=self._retry, name="store-retry", daemon=True)
        self._thread.start()

    def _retry(self) -> None:
        global _running
        while not self._stop.wait(self._retry_seconds):
            try:
                monitor = open_monitor()
            except StoreError as exc:
                log.warning("the store still cannot be opened: %s", exc)
                self.health = HealthService(_StoreDown(str(exc), utcnow), max_age_seconds=1.0)
                continue
            except MonitoringError as exc:
                log.error("the store opened but cannot be used: %s", exc)
                continue
            log.warning("the store is available again; starting background work")
            _running = _start_with(monitor)
            return

    def stop(self) -> None:
        global _running
        self._stop.set()
        self._thread.join(timeout=5)
        if isinstance(_running, Background):
            _running.stop()
        _running = None


def start(monitor: Monitor | None = None) -> Background | Waiting:
    """Open everything and start the scheduler thread (call once per process).

    A missing or wrong setting or key is raised (it cannot fix itself); a store that
    cannot be opened for now (disk full, read-only, unmounted) starts ``Waiting``.
    """
    global _running
    if monitor is None:
        try:
            monitor = open_monitor()
        except (ConfigError, WrongKeyError):
            raise
        except StoreError as exc:
            log.error("cannot open the store: %s; serving /health as unhealthy and retrying", exc)
            _running = Waiting(exc)
            return _running
    _running = _start_with(monitor)
    return _running


TIMINGS_JOB_ID = "page-timings"
NOTIFY_JOB_ID = "notify-deliver"
NOTIFY_EVERY_SECONDS = 60


def _wire_notifications(background: Background) -> None:
    """Deliver the outbox every minute (and at start: rows a crash left), and right after a
    cycle that changed alerts, on the scheduler's pool so a slow webhook never holds a cycle."""
    from monitoring.notify.delivery import Delivery

    delivery = Delivery(background.monitor)
    scheduler = background.scheduler
    # Two instances may overlap (a wake during a pass): claims keep them off each other's rows.
    scheduler.add_periodic(NOTIFY_JOB_ID, delivery.run, NOTIFY_EVERY_SECONDS,
                           name="notification delivery", max_instances=2)
    background.pipeline.on_changes = lambda _changes: scheduler.wake(NOTIFY_JOB_ID)
    background.extras["delivery"] = delivery
    background.extras.setdefault("closers", []).append(delivery.close)


def _start_with(monitor: Monitor) -> Background:
    """Start the background work around an open monitor."""
    from health.probe import EndpointProbe
    from monitoring.appinsights import start_telemetry

    telemetry = start_telemetry(monitor.config)  # first: a malformed connection string stops here
    set_current(monitor)
    pipeline = build_pipeline(monitor)
    scheduler = PullScheduler(monitor, pipeline)
    checker = HealthChecker(monitor, scheduler_alive=lambda: scheduler.running,
                            breaker_state=pipeline.breaker_state,
                            telemetry=telemetry.stats if telemetry else lambda: None)
    background = Background(monitor, pipeline, scheduler,
                            HealthService(checker, probe=EndpointProbe(monitor)))
    _wire_notifications(background)
    # Pages only buffer their query timings (never waiting on the write lock); written here.
    scheduler.add_periodic(TIMINGS_JOB_ID, lambda: TIMINGS.flush(monitor.store), 60,
                           name="page timings")
    background.extras.setdefault("closers", []).append(lambda: TIMINGS.flush(monitor.store))
    if telemetry is not None:  # closed last, after the last cycle and deliveries: bounded flush
        background.extras["telemetry"] = telemetry
        background.extras.setdefault("closers", []).append(telemetry.close)
    prepare = (lambda: backfill(monitor, pipeline, monitor.clock())) if monitor.config.demo_mode else None
    scheduler.start(run_now=True, prepare=prepare)
    log.info("background work started", extra={"demo_mode": monitor.config.demo_mode})
    return background
