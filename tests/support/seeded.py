"""A demo store with ten days of history, built once per test session and copied per test.

Building it runs the real cycle (simulated pulls, reference freeze, drift checks) and
the real alert manager, which takes a while; copying the closed database file takes
milliseconds, so every page test starts from the same realistic state and may write.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitoring import lifecycle
from monitoring.actors import SYSTEM
from monitoring.alerts import Signal, apply_signals, drift_fingerprint, ops_fingerprint
from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.ingest import store_pull
from monitoring.sources import Fetched
from monitoring.timeutil import to_ms
from tests.support.clock import FakeClock

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ADMIN, ADMIN_PASSWORD = "admin", "admin-pass-for-pages"
ANALYST, ANALYST_PASSWORD = "ann", "analyst-pass-for-pages"
DB_KEY = "5eed" * 16
COOKIE_KEY = "cookie-key-for-page-tests-0123456789abcdef"


def env_for(data_dir: Path) -> dict[str, str]:
    return {"MONITOR_DATA_DIR": str(data_dir), "MONITOR_DB_KEY": DB_KEY,
            "MONITOR_ADMIN_PASSWORD": ADMIN_PASSWORD, "AUTH_COOKIE_KEY": COOKIE_KEY,
            "LOG_LEVEL": "WARNING"}


def build(data_dir: Path, now: datetime = NOW) -> None:
    """Ten days of simulated pulls through the real cycle, two alerts, a quarantined row.

    ``now`` is the seed's present: page tests keep the fixed ``NOW`` (their clock is fake);
    a live server runs on the real clock, so browser tests seed up to the current hour.
    """
    clock = FakeClock(now)
    monitor = open_monitor(load_config(env_for(data_dir)), clock=clock)
    try:
        monitor.users.add(SYSTEM, ANALYST, "analyst", ANALYST_PASSWORD)
        pipeline = lifecycle.build_pipeline(monitor)
        lifecycle.backfill(monitor, pipeline, now, days=10)
        settings = monitor.settings.effective()
        bad = Fetched("mock", [{"archived_gb_predicted": -5.0, "savings_gb_predicted": 1.0,
                                "confidence_interval": 0.5}])
        store_pull(monitor, bad, now - timedelta(hours=2), now, now, "manual", settings)
        with monitor.store.transaction() as conn:
            field = "archived_gb_predicted"
            apply_signals(conn, [Signal(drift_fingerprint(field, "drift"), "drift", "drift", True, "critical",
                                        f"Distribution changed: {field}", field,
                                        {"methods": ["cusum_location"]})],
                          to_ms(now - timedelta(hours=5)), 6)
            apply_signals(conn, [Signal(ops_fingerprint("endpoint_failing"), "operational",
                                        "endpoint_failing", True, "warning", "Scoring endpoint failing")],
                          to_ms(now - timedelta(hours=3)), 6)
    finally:
        monitor.close()


def copy_to(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def open_copy(template: Path, target: Path, clock: FakeClock | None = None) -> Monitor:
    data_dir = copy_to(template, target)
    return open_monitor(load_config(env_for(data_dir)), clock=clock or FakeClock(NOW))
