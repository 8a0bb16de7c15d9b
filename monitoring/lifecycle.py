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
from monitoring.pipeline import Pipeline
from monitoring.scheduler import PullScheduler, slot_start
from monitoring.sources import MockSource, Source
from monitoring.store import Predictions
from monitoring.timeutil import utcnow

log = logging.getLogger(__name__)

BACKFILL_DAYS = 7
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

    source = source or build_source(monitor)
    breaker: Callable[[], str | None] = getattr(source, "breaker_state", lambda: None)
    return Pipeline(monitor, source, detector=DriftService(monitor), breaker_state=breaker)


def backfill(monitor: Monitor, pipeline: Pipeline, now: datetime, days: int = BACKFILL_DAYS) -> int:
    """Demo mode's first start: a week of simulated pulls through the real cycle."""
    with monitor.store.read() as conn:
        if Predictions(conn).count(["mock"]) > 0:
            return 0
    interval = timedelta(minutes=int(monitor.settings.effective()["pull_interval_minutes"]))
    current = slot_start(now, interval)
    slot = current - timedelta(days=days)
    cycles = 0
    while slot < current and not monitor.stopping.is_set():
        pipeline.run_cycle(slot, "backfill")
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


def _start_with(monitor: Monitor) -> Background:
    """Start the background work around an open monitor."""
    set_current(monitor)
    pipeline = build_pipeline(monitor)
    scheduler = PullScheduler(monitor, pipeline)
    checker = HealthChecker(monitor, scheduler_alive=lambda: scheduler.running,
                            breaker_state=pipeline.breaker_state)
    background = Background(monitor, pipeline, scheduler, HealthService(checker))
    prepare = (lambda: backfill(monitor, pipeline, monitor.clock())) if monitor.config.demo_mode else None
    scheduler.start(run_now=True, prepare=prepare)
    log.info("background work started", extra={"demo_mode": monitor.config.demo_mode})
    return background
