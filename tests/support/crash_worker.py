"""Work that a test kills with SIGKILL at a random moment: imports, cycles or settings writes.

Usage: python -m tests.support.crash_worker MODE WORKDIR
  import   : imports WORKDIR/day-*.csv one after another, forever
  cycle    : runs demo cycles (simulated source, real detector) an hour apart, forever; the
             clock restarts with each worker, so a restart re-runs slots that were already
             pulled, as a restart does once the lease of an interrupted slot expires
  settings : writes settings (with their audit rows), forever
Prints "ready" once the store is open, so the killer knows the work has begun.
"""

from __future__ import annotations

import itertools
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitoring.actors import Actor
from monitoring.context import open_monitor
from monitoring.importer import import_csv
from monitoring.lifecycle import build_pipeline
from tests.support.clock import FakeClock


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
    elif mode == "settings":
        admin = Actor("admin", "admin")
        for i in itertools.count():
            monitor.settings.update(admin, {"pull_interval_minutes": 30 + i % 30,
                                            "window_pulls": 10 + i % 50})
            clock.advance(seconds=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
