"""One notification delivery pass in its own process, so a test can kill it mid-send.

Usage: python -m tests.support.notify_worker ISO_TIME   (environment: the store's MONITOR_* variables)
Prints "ready" once the store is open, then runs the pass at ISO_TIME and prints its report.
"""

from __future__ import annotations

import json
import sys

from monitoring.context import open_monitor
from monitoring.notify.delivery import deliver_now
from monitoring.timeutil import parse_iso
from tests.support.clock import FakeClock


def main() -> int:
    monitor = open_monitor(clock=FakeClock(parse_iso(sys.argv[1])), bootstrap_admin=False)
    print("ready", flush=True)
    report = deliver_now(monitor)
    print(json.dumps({"delivered": report.delivered, "retrying": report.retrying,
                      "failed": report.failed}), flush=True)
    monitor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
