"""HealthChecker: healthy, degraded (product still works) and unhealthy (replace me), from the
real store and scheduler; HealthService's cache; the rate-limited endpoint probe."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from health.checker import DEGRADED, HEALTHY, UNHEALTHY, HealthChecker, Limits
from health.probe import EndpointProbe
from health.service import HealthService
from monitoring.actors import SYSTEM
from monitoring.context import Monitor
from monitoring.errors import StoreError
from monitoring.pipeline import CycleReport, Pipeline
from monitoring.scheduler import PullScheduler, scheduler_status
from monitoring.sources import MockSource
from tests.fakes.azureml_server import Reply

CALM = Limits(memory_percent_degraded=101.0, disk_free_mb_degraded=0.0, disk_free_mb_unhealthy=0.0)


def _checks(status) -> dict[str, str]:
    return {c.name: c.status for c in status.checks}


def test_a_running_demo_monitor_is_healthy(monitor: Monitor, clock) -> None:
    PullScheduler(monitor, Pipeline(monitor, MockSource()), holder="h").tick()
    status = HealthChecker(monitor, scheduler_alive=lambda: True, limits=CALM).check()
    assert status.status == HEALTHY, status.checks
    assert _checks(status) == {"database": HEALTHY, "scheduler": HEALTHY, "endpoint": HEALTHY,
                               "resources": HEALTHY, "telemetry": HEALTHY}


def test_a_failing_endpoint_with_fallback_is_degraded_and_so_is_an_open_breaker(wired) -> None:
    wired.server.default = Reply.error(503, "busy")
    checker = HealthChecker(wired.monitor, scheduler_alive=lambda: True,
                            breaker_state=wired.source.breaker_state, limits=CALM)
    report = wired.pipeline.run_cycle(wired.clock(), "scheduled")
    assert report.pull.outcome == "fallback"
    status = checker.check()
    assert (status.status, _checks(status)["endpoint"]) == (DEGRADED, DEGRADED)
    (endpoint,) = [c for c in status.checks if c.name == "endpoint"]
    assert "fallback is labelled simulated" in endpoint.detail
    for _ in range(2):
        wired.clock.advance(hours=1)
        wired.pipeline.run_cycle(wired.clock(), "scheduled")
    assert wired.source.breaker_state() == "open"
    (endpoint,) = [c for c in checker.check().checks if c.name == "endpoint"]
    assert (endpoint.status, endpoint.data["breaker"]) == (DEGRADED, "open")
    assert "circuit breaker open" in endpoint.detail


def test_low_disk_degrades_then_makes_unhealthy(monitor: Monitor) -> None:
    degraded = HealthChecker(monitor, limits=replace(CALM, disk_free_mb_degraded=1e12)).check()
    assert (degraded.status, _checks(degraded)["resources"]) == (DEGRADED, DEGRADED)
    unhealthy = HealthChecker(monitor, limits=replace(CALM, disk_free_mb_unhealthy=1e12)).check()
    assert (unhealthy.status, _checks(unhealthy)["resources"]) == (UNHEALTHY, UNHEALTHY)


def test_failing_store_writes_make_the_instance_unhealthy_until_one_succeeds(monitor: Monitor) -> None:
    # a write the database refuses, through the real write path
    with pytest.raises(StoreError), monitor.store.transaction() as conn:
        conn.execute("INSERT INTO pulls (slot_at, started_at, kind, source, outcome) "
                     "VALUES (0, 0, 'bogus', 'mock', 'ok')")
    checker = HealthChecker(monitor, limits=CALM)
    (database,) = [c for c in checker.check().checks if c.name == "database"]
    assert database.status == UNHEALTHY and "writes are failing" in database.detail
    Pipeline(monitor, MockSource()).run_cycle(monitor.clock(), "manual")  # a write succeeds
    (database,) = [c for c in checker.check().checks if c.name == "database"]
    assert database.status == DEGRADED and "later writes succeeded" in database.detail


def test_a_dead_scheduler_or_stale_cycles_are_unhealthy(monitor: Monitor, clock) -> None:
    dead = HealthChecker(monitor, scheduler_alive=lambda: False, limits=CALM).check()
    assert (dead.status, _checks(dead)["scheduler"]) == (UNHEALTHY, UNHEALTHY)
    PullScheduler(monitor, Pipeline(monitor, MockSource()), holder="h").tick()
    checker = HealthChecker(monitor, scheduler_alive=lambda: True, limits=CALM)
    clock.advance(minutes=124)  # interval 60 x stale factor 2 + 5 min grace
    assert checker.check().status == HEALTHY
    clock.advance(minutes=2)
    stale = checker.check()
    (scheduler,) = [c for c in stale.checks if c.name == "scheduler"]
    assert stale.status == UNHEALTHY and scheduler.detail.startswith("no cycle for 126 min")


class _Failing:
    """A cycle runner whose every cycle raises, like one whose store refuses writes."""

    def run_cycle(self, now, kind="scheduled"):
        raise StoreError("disk I/O error")


def test_cycles_that_keep_failing_make_the_instance_unhealthy_until_one_succeeds(monitor, clock) -> None:
    checker = HealthChecker(monitor, scheduler_alive=lambda: True, limits=CALM)
    failing = PullScheduler(monitor, _Failing(), holder="h")
    for _ in range(3):  # a failing cycle every hour keeps last_run_at fresh; that is not health
        assert failing.tick() is False
        (scheduler,) = [c for c in checker.check().checks if c.name == "scheduler"]
        assert scheduler.status == DEGRADED and "the last cycle failed" in scheduler.detail
        clock.advance(minutes=60)
    assert failing.tick() is False
    status = checker.check()
    (scheduler,) = [c for c in status.checks if c.name == "scheduler"]
    assert status.status == UNHEALTHY and scheduler.detail.startswith("no successful cycle for 180 min")
    clock.advance(minutes=60)
    assert PullScheduler(monitor, Pipeline(monitor, MockSource()), holder="h").tick() is True
    assert checker.check().status == HEALTHY


def test_a_cycle_that_could_not_store_its_pull_is_not_a_success(monitor, clock) -> None:
    class Unstored:
        def run_cycle(self, now, kind="scheduled"):
            return CycleReport("c1", now, errors=["store: database write failed: database or disk is full"])

    assert PullScheduler(monitor, Unstored(), holder="h").tick() is False
    status = scheduler_status(monitor)
    assert "disk is full" in status["last_error"] and "last_success_at" not in status
    (scheduler,) = [c for c in HealthChecker(monitor, limits=CALM).check().checks if c.name == "scheduler"]
    assert scheduler.status == DEGRADED


def test_an_interval_change_is_not_recorded_as_a_cycle(monitor, clock) -> None:
    scheduler = PullScheduler(monitor, _Failing(), holder="h")
    scheduler.tick()
    clock.advance(minutes=30)
    monitor.settings.update(SYSTEM, {"pull_interval_minutes": 30})
    assert scheduler.refresh_interval() is True
    status = scheduler_status(monitor)
    assert status["last_error"] == "disk I/O error"  # not wiped by the interval change
    assert status["last_run_at"] == clock() - timedelta(minutes=30)
    assert "last_success_at" not in status and status["interval_minutes"] == 30


def test_high_memory_degrades(monitor: Monitor) -> None:
    status = HealthChecker(monitor, limits=replace(CALM, memory_percent_degraded=0.0)).check()
    (resources,) = [c for c in status.checks if c.name == "resources"]
    assert status.status == DEGRADED and resources.detail.startswith("memory ")


def test_a_probe_that_raises_is_reported_and_never_escapes(monitor: Monitor) -> None:
    class Broken(HealthChecker):
        def _pulls(self, now):
            raise RuntimeError("boom")

    status = Broken(monitor, scheduler_alive=lambda: True, limits=CALM).check()
    (pulls,) = [c for c in status.checks if c.name == "pulls"]
    assert status.status == UNHEALTHY and pulls.detail == "probe failed: RuntimeError"


def test_a_hung_refresh_turns_liveness_unhealthy(monitor: Monitor) -> None:
    release = threading.Event()
    calls = []

    class Hanging(HealthChecker):
        def check(self):
            calls.append(1)
            if len(calls) > 1:
                release.wait(10)  # a store on a share that stopped answering
            return super().check()

    now = [0.0]
    service = HealthService(Hanging(monitor, limits=CALM), max_age_seconds=10, monotonic=lambda: now[0])
    first = service.fresh()
    now[0] = 11.0
    assert service.cached() is first  # the refresh starts and hangs
    now[0] = 59.0
    assert service.cached() is first  # not yet past 6 x max_age
    now[0] = 61.0
    hung = service.cached()
    release.set()
    assert hung.status == UNHEALTHY and hung.checks[-1].name == "health_check"
    assert "has not finished for 61 s" in hung.checks[-1].detail


def test_health_service_answers_pings_from_its_cache(monitor: Monitor) -> None:
    calls = []

    class Counting(HealthChecker):
        def check(self):
            calls.append(1)
            return super().check()

    now = [0.0]
    service = HealthService(Counting(monitor, limits=CALM), max_age_seconds=10,
                            monotonic=lambda: now[0])
    assert service.cached() is None
    first = service.fresh()
    now[0] = 5.0
    assert service.cached() is first and len(calls) == 1  # younger than max_age: no new check
    now[0] = 11.0
    assert service.cached() is first  # stale: served at once, refreshed in the background
    deadline = time.monotonic() + 5
    while service.cached() is first and time.monotonic() < deadline:  # until the refresh is done
        time.sleep(0.01)
    assert service.cached() is not first and len(calls) == 2


def test_the_probe_makes_one_attempt_and_is_rate_limited(wired) -> None:
    wired.server.default = Reply.error(503, "busy")
    now = [0.0]
    service = HealthService(HealthChecker(wired.monitor, limits=CALM),
                            probe=EndpointProbe(wired.monitor, timeout=1.0), monotonic=lambda: now[0])
    check = service.probe()
    assert check.name == "endpoint_probe" and check.status == DEGRADED
    assert check.data["status_code"] == 503 and check.data["attempts"] == 1
    assert wired.server.request_count == 1  # no retries (the setting allows 3)
    now[0] = 59.0
    cached = service.probe()
    assert cached.detail.endswith("(cached; rate-limited)") and wired.server.request_count == 1
    wired.server.default = Reply.rows(5)
    now[0] = 61.0
    ok = service.probe()
    assert ok.status == HEALTHY and ok.data["rows"] == 5 and wired.server.request_count == 2
    assert wired.source.breaker_state() is None  # the pipeline's breaker was never touched


def test_a_slow_endpoint_cannot_hold_the_probe_past_its_timeout(wired) -> None:
    wired.server.default = Reply.rows(5, delay=5.0)
    started = time.perf_counter()
    check = EndpointProbe(wired.monitor, timeout=0.3)()
    assert time.perf_counter() - started < 2.0
    assert check.status == DEGRADED and wired.server.request_count == 1


def test_in_demo_mode_the_probe_says_there_is_no_endpoint(monitor: Monitor) -> None:
    check = EndpointProbe(monitor)()
    assert check.status == HEALTHY and "no endpoint is configured" in check.detail


def test_a_detection_error_is_shown_but_keeps_the_scheduler_fresh(monitor, clock) -> None:
    class DetectFails:
        def run_cycle(self, now, kind="scheduled"):
            return CycleReport("c2", now, errors=["detect: drift reference 3 no longer exists"])

    scheduler = PullScheduler(monitor, DetectFails(), holder="h")
    for _ in range(4):
        assert scheduler.tick() is True
        clock.advance(hours=1)
    status = scheduler_status(monitor)
    assert "no longer exists" in status["last_error"] and status["last_success_at"] is not None
    (check,) = [c for c in HealthChecker(monitor, limits=CALM).check().checks if c.name == "scheduler"]
    assert check.status == DEGRADED  # someone should look; replacing the instance would not help
