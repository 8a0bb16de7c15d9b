"""Start and stop the background work of one server process, exactly once.

``app.py``'s lifespan calls ``start()`` and ``stop()``; pages never do. ``start``
opens the store, builds the cycle (endpoint or simulated source, detector,
notifications, telemetry), starts the scheduler and, on a first demo start,
backfills a week of labelled simulated history in the scheduler thread so the
server answers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from health.checker import HealthChecker
from health.service import HealthService
from monitoring.context import Monitor, open_monitor, set_current
from monitoring.pipeline import Pipeline
from monitoring.scheduler import PullScheduler, slot_start
from monitoring.sources import MockSource, Source
from monitoring.store import Predictions

log = logging.getLogger(__name__)

BACKFILL_DAYS = 7
_running: Background | None = None


def running() -> Background | None:
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


def start(monitor: Monitor | None = None) -> Background:
    """Open everything and start the scheduler thread (call once per process)."""
    global _running
    monitor = monitor or open_monitor()
    set_current(monitor)
    pipeline = build_pipeline(monitor)
    scheduler = PullScheduler(monitor, pipeline)
    checker = HealthChecker(monitor, scheduler_alive=lambda: scheduler.running,
                            breaker_state=pipeline.breaker_state)
    background = Background(monitor, pipeline, scheduler, HealthService(checker))
    prepare = (lambda: backfill(monitor, pipeline, monitor.clock())) if monitor.config.demo_mode else None
    scheduler.start(run_now=True, prepare=prepare)
    log.info("background work started", extra={"demo_mode": monitor.config.demo_mode})
    _running = background
    return background
