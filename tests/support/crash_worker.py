"""Work that a test kills with SIGKILL at a random moment: imports, cycles or settings writes.

Usage: python -m tests.support.crash_worker MODE WORKDIR
  import   : imports WORKDIR/day-*.csv one after another, forever
  cycle    : runs demo cycles (simulated source, real detector) an hour apart, forever; the
             clock restarts with each worker, so a restart re-runs slots that were already
             pulled, as a restart does once the lease of an interrupted slot expires
  settings : writes settings (with their audit rows), forever
  catch-up : stores twelve days of simulated hourly history once, then runs the scheduler's job
             (lease, cycle, deferred drift work) an hour apart, forever; run it with
             MONITOR_DRIFT_BUDGET_SECONDS=0 so that reference fits and one-pull catch-up
             passes fill its life
Prints "ready" once the store is open, so the killer knows the work has begun.
"""

from __future__ import annotations

import itertools
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from monitoring.actors import Actor
from monitoring.context import Monitor, open_monitor
from monitoring.importer import import_csv
from monitoring.lifecycle import build_pipeline
from monitoring.scheduler import PullScheduler
from monitoring.store import Predictions
from tests.support.clock import FakeClock
from tests.support.hourly import store_pulls


def main() -> int:
    mode, workdir = sys.argv[1], Path(sys.argv[2])
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    monitor = open_monitor(clock=clock, bootstrap_admin=True)
    print("ready", flush=True)
    if mode == "import":
        files = sorted(workdir.glob("day-*.csv"))
        for path in itertools.cycle(files):
            import_csv(monitor, path)
    elif mode == "cycle":
        pipeline = build_pipeline(monitor)
        while True:
            pipeline.run_cycle(clock(), "scheduled")
            clock.advance(hours=1)
    elif mode == "catch-up":
        _history(monitor, HISTORY_START, days=HISTORY_DAYS)
        clock.set(HISTORY_START + timedelta(days=HISTORY_DAYS))
        scheduler = PullScheduler(monitor, build_pipeline(monitor))
        while True:
            scheduler.tick()
            clock.advance(hours=1)
    elif mode == "settings":
        admin = Actor("admin", "admin")
        for i in itertools.count():
            monitor.settings.update(admin, {"pull_interval_minutes": 30 + i % 30,
                                            "window_pulls": 10 + i % 50})
            clock.advance(seconds=1)
    return 0


HISTORY_START = datetime(2026, 1, 5, tzinfo=UTC)
HISTORY_DAYS = 12  # a week of reference, then five days (120 pulls a field) to catch up


def _history(monitor: Monitor, start: datetime, days: int) -> None:
    """Hourly simulated pulls of every seed field, all in one transaction, unless already there."""
    with monitor.store.read() as conn:
        if Predictions(conn).count(["mock"]):
            return
    rng = np.random.default_rng(9)
    store_pulls(monitor, start, [[{"archived_gb_predicted": float(rng.normal(500, 40)),
                                   "savings_gb_predicted": float(abs(rng.normal(120, 15))),
                                   "confidence_interval": float(rng.uniform(0.7, 0.9))}]
                                 for _ in range(days * 24)], kind="backfill")


if __name__ == "__main__":
    sys.exit(main())
