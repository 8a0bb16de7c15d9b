"""A scheduler process for the two-process lease test: ticks simulated slots, never sleeps for them.

Usage: python -m tests.support.scheduler_worker GO_FILE START_ISO SLOTS OFFSET_SECONDS
Env: MONITOR_DATA_DIR / MONITOR_DB_KEY point both processes at one store.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from monitoring.context import open_monitor
from monitoring.pipeline import Pipeline
from monitoring.scheduler import PullScheduler
from monitoring.sources import MockSource
from tests.support.clock import FakeClock


def main() -> int:
    go, start, slots, offset = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4])
    clock = FakeClock(start)
    monitor = open_monitor(clock=clock, bootstrap_admin=False)
    scheduler = PullScheduler(monitor, Pipeline(monitor, MockSource()), clock=clock)
    deadline = time.monotonic() + 30
    while not go.exists():  # start together with the other process (not a wait for the schedule)
        if time.monotonic() > deadline:
            return 3
        time.sleep(0.01)
    won = 0
    for i in range(slots):
        clock.set(start + timedelta(hours=i, seconds=offset))
        won += scheduler.tick()
    monitor.close()
    print(won)
    return 0


if __name__ == "__main__":
    sys.exit(main())
