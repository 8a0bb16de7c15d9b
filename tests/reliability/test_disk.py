"""Disk full and a read-only data dir: a clear error, an unhealthy report, no crash loop,
and recovery once the disk is usable again."""

from __future__ import annotations

import logging
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from health.checker import HealthChecker, Limits
from health.routes import health_routes
from health.service import HealthService
from monitoring import lifecycle
from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.mock import MockProfile
from monitoring.pipeline import Pipeline
from monitoring.scheduler import PullScheduler
from monitoring.sources import MockSource
from monitoring.store.maintenance import integrity_check
from tests.support.store_checks import torn_pulls
from tests.support.tmpfs import remount, tmpfs

CALM = Limits(memory_percent_degraded=101.0)  # the machine's memory is not under test


def _ready_code(monitor, scheduler) -> tuple[int, dict]:
    """``GET /health/ready`` through the real routes, bound to this monitor's checker."""
    service = HealthService(HealthChecker(monitor, scheduler_alive=lambda: True, limits=CALM))
    with TestClient(Starlette(routes=health_routes(lambda: service))) as client:
        reply = client.get("/health/ready")
    return reply.status_code, {c["name"]: c for c in reply.json()["checks"]}


def _fill_until_a_cycle_fails(scheduler, clock) -> None:
    for _ in range(300):
        scheduler.tick()
        clock.advance(hours=1)
        if scheduler.monitor.store.last_write_error:
            return
    pytest.fail("the disk never filled")


def test_a_full_disk_while_running_is_clear_unhealthy_not_fatal_and_recovers(env, clock, caplog) -> None:
    """(A read-only remount cannot be forced under open files, so read-only is tested at start.)"""
    with tmpfs("3m") as data:
        monitor = open_monitor(load_config({**env, "MONITOR_DATA_DIR": str(data)}), clock=clock,
                               bootstrap_admin=False)
        scheduler = PullScheduler(monitor, Pipeline(monitor, MockSource(MockProfile(rows_per_pull=500))),
                                  holder="t")
        try:
            _fill_until_a_cycle_fails(scheduler, clock)
            caplog.clear()
            for _ in range(3):  # the scheduler keeps its slots; each failure is one clear line
                scheduler.tick()
                clock.advance(hours=1)
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 3, [r.getMessage() for r in errors]  # one line per slot
            assert all("disk is full" in r.getMessage() for r in errors), [r.getMessage() for r in errors]
            assert not any(r.exc_info for r in caplog.records)  # no traceback
            code, checks = _ready_code(monitor, scheduler)
            assert code == 503 and checks["database"]["status"] == "unhealthy"
            assert "writes are failing" in checks["database"]["detail"]
            assert "MB free" in checks["resources"]["detail"]
            remount(data, "rw,size=1g")
            assert scheduler.tick() is True  # recovery: the next slot works, nothing to restart
            code, checks = _ready_code(monitor, scheduler)
            assert code == 200 and checks["scheduler"]["status"] == "healthy"
            assert integrity_check(monitor.store) == "ok"
            with monitor.store.read() as conn:  # whole pulls only, before and after the fault
                torn = torn_pulls(conn)
            assert torn == []
        finally:
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
