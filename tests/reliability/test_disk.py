"""Disk full and a read-only data dir: a clear error, an unhealthy report, no crash loop,
and recovery once the disk is usable again."""

from __future__ import annotations

import time

import pytest

from health.checker import HealthChecker
from monitoring import lifecycle
from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.mock import MockProfile
from monitoring.pipeline import Pipeline
from monitoring.sources import MockSource
from monitoring.store.maintenance import integrity_check
from tests.support.tmpfs import remount, tmpfs


def _statuses(monitor) -> dict[str, str]:
    report = HealthChecker(monitor).check()
    return {c.name: f"{c.status}: {c.detail}" for c in report.checks} | {"overall": report.status}


def test_disk_full_is_a_clear_error_and_recovers(env, clock) -> None:
    with tmpfs("3m") as data:
        monitor = open_monitor(load_config({**env, "MONITOR_DATA_DIR": str(data)}), clock=clock,
                               bootstrap_admin=False)
        pipeline = Pipeline(monitor, MockSource(MockProfile(rows_per_pull=500)))
        for _ in range(300):
            report = pipeline.run_cycle(clock(), "scheduled")
            clock.advance(hours=1)
            if report.errors:
                break
        assert report.errors and "disk is full" in report.errors[0]
        assert "nothing was saved" in report.errors[0]
        health = _statuses(monitor)
        assert health["overall"] == "unhealthy"
        assert "MB free" in health["resources"]
        remount(data, "size=1g")
        report = pipeline.run_cycle(clock(), "scheduled")
        assert report.errors == [] and report.pull.outcome == "ok"
        assert integrity_check(monitor.store) == "ok"
        assert _statuses(monitor)["overall"] in ("healthy", "degraded")
        monitor.close()


@pytest.mark.parametrize("existing", [False, True], ids=["first start", "restart with data"])
def test_read_only_data_dir_waits_instead_of_crash_looping(env, monkeypatch, clock, existing) -> None:
    """A read-only data dir (e.g. a share remounted read-only) at start: unhealthy, retrying."""
    with tmpfs("1g") as data:
        full_env = {**env, "MONITOR_DATA_DIR": str(data / "db")}
        if existing:
            monitor = open_monitor(load_config(full_env), clock=clock, bootstrap_admin=False)
            assert Pipeline(monitor, MockSource()).run_cycle(clock(), "scheduled").errors == []
            monitor.close()
        remount(data, "ro")
        for name, value in full_env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(lifecycle, "RETRY_OPEN_SECONDS", 0.1)
        background = lifecycle.start()
        try:
            assert isinstance(background, lifecycle.Waiting)
            status = lifecycle.running().health.fresh()
            assert status.status == "unhealthy" and "cannot be opened" in status.checks[0].detail
            remount(data, "rw")
            deadline = time.monotonic() + 20
            while not isinstance(lifecycle.running(), lifecycle.Background):
                if time.monotonic() > deadline:
                    pytest.fail("the store never reopened")
                time.sleep(0.05)  # waiting for the retry thread, not for the scheduler
            assert lifecycle.running().health.fresh().status in ("healthy", "degraded")
            if existing:
                assert integrity_check(lifecycle.running().monitor.store) == "ok"
        finally:
            current = lifecycle.running()
            if current is not None:
                current.stop()
            background.stop()
