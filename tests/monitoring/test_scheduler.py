"""The scheduler: aligned slots, a lease across processes, runtime interval changes, no sleeping."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.pipeline import Pipeline
from monitoring.scheduler import (
    CATCH_UP_MAX_SECONDS,
    LEASE_TTL_MS,
    MISFIRE_GRACE_SECONDS,
    PullScheduler,
    make_trigger,
    scheduler_status,
    slot_start,
)
from monitoring.sources import MockSource
from monitoring.store import Pulls, RuntimeState
from monitoring.store.runtime import DONE
from monitoring.timeutil import to_ms
from tests.support import secret_scan

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor("admin", "admin")


def test_slots_are_aligned_to_the_epoch() -> None:
    now = datetime(2026, 1, 5, 10, 37, 12, tzinfo=UTC)
    assert slot_start(now, timedelta(hours=1)) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert slot_start(now, timedelta(minutes=15)) == datetime(2026, 1, 5, 10, 30, tzinfo=UTC)
    trigger = make_trigger(timedelta(minutes=15))
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 1, 5, 10, 45, tzinfo=UTC)
    previous = datetime(2026, 1, 5, 10, 45, tzinfo=UTC)
    assert trigger.get_next_fire_time(previous, now) == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def test_ticks_with_an_injected_clock_pull_once_per_slot(monitor: Monitor, clock, caplog) -> None:
    scheduler = PullScheduler(monitor, Pipeline(monitor, MockSource()), holder="a")
    other = PullScheduler(monitor, Pipeline(monitor, MockSource()), holder="b")
    assert scheduler.tick() is True
    clock.advance(minutes=20)
    caplog.set_level("INFO", logger="monitoring.scheduler")
    assert scheduler.tick() is False  # same slot: already pulled
    assert other.tick() is False
    skips = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert skips == ["slot 2026-01-05T00:00:00Z is already taken by this process; skipping",
                     "slot 2026-01-05T00:00:00Z is already taken by another instance (a); skipping"]
    clock.advance(minutes=45)
    assert scheduler.tick() is True
    with monitor.store.read() as conn:
        slots = [p.slot_at for p in Pulls(conn).recent(0, 2**62)]
    assert len(slots) == len(set(slots)) == 2
    status = scheduler_status(monitor)
    assert status["last_run_at"] == clock()
    assert status["next_run_at"] == datetime(2026, 1, 5, 2, tzinfo=UTC)


def test_a_failing_cycle_never_kills_the_scheduler(monitor: Monitor, clock) -> None:
    class Exploding:
        calls = 0

        def run_cycle(self, now, kind="scheduled"):
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("boom")

    runner = Exploding()
    scheduler = PullScheduler(monitor, runner, holder="a")
    assert scheduler.tick() is False
    assert scheduler_status(monitor)["last_error"] == "RuntimeError: boom"
    clock.advance(hours=1)
    assert scheduler.tick() is True
    assert scheduler_status(monitor)["last_error"] is None


def test_deferred_drift_work_is_caught_up_inside_the_lease_after_the_cycle_is_recorded(
        monitor: Monitor, clock) -> None:
    class Deferring:
        seen: list = []

        def run_cycle(self, now, kind="scheduled"):
            return SimpleNamespace(errors=[], drift_deferred={"f": "waiting"})

        def catch_up(self, now, max_seconds=None):
            with monitor.store.read() as conn:
                lease = RuntimeState(conn).lease("pull")
            self.seen.append((lease["holder"], lease["expires_at"] == to_ms(now) + LEASE_TTL_MS,  # held
                              scheduler_status(monitor).get("last_success_at"), max_seconds))
            raise RuntimeError("catch-up broke")  # must not fail the cycle that ran

    runner = Deferring()
    scheduler = PullScheduler(monitor, runner, holder="a")
    assert scheduler.tick() is True
    assert runner.seen == [("a", True, clock(), CATCH_UP_MAX_SECONDS)]
    assert CATCH_UP_MAX_SECONDS * 1000 < LEASE_TTL_MS
    assert scheduler_status(monitor)["last_error"] is None
    with monitor.store.read() as conn:
        assert RuntimeState(conn).lease("pull")["expires_at"] == DONE  # the slot is finished after it
    monitor.settings.update(ADMIN, {"pull_interval_minutes": 2})
    scheduler.refresh_interval()
    clock.advance(hours=1)
    assert scheduler.tick() is True
    assert runner.seen[-1][3] == 60.0  # half the interval: the next pull never waits behind it


def test_interval_change_takes_effect_without_restart(monitor: Monitor, clock) -> None:
    scheduler = PullScheduler(monitor, Pipeline(monitor, MockSource()), holder="a")
    scheduler.start(run_now=False)
    try:
        job = scheduler.job()
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, MISFIRE_GRACE_SECONDS)
        assert job.trigger.interval == timedelta(hours=1)
        monitor.settings.update(ADMIN, {"pull_interval_minutes": 15})
        assert scheduler.refresh_interval() is True
        assert scheduler.job().trigger.interval == timedelta(minutes=15)
        assert scheduler.refresh_interval() is False
    finally:
        scheduler.stop()
    assert not scheduler.running


def test_two_processes_on_one_store_pull_once_per_interval(tmp_path: Path, env: dict[str, str],
                                                           monitor: Monitor) -> None:
    go = tmp_path / "go"
    start = "2026-01-05T00:00:00+00:00"
    slots = 12
    procs, errors = [], []
    for offset in (1.0, 2.0):
        with secret_scan.subprocess_stderr(f"scheduler-worker-{offset:g}") as stderr:  # scanned for secrets
            procs.append(subprocess.Popen([sys.executable, "-m", "tests.support.scheduler_worker", str(go),
                                           start, str(slots), str(offset)], cwd=ROOT,
                                          env={**env, "LOG_LEVEL": "ERROR"}, stdout=subprocess.PIPE,
                                          stderr=stderr, text=True))
        errors.append(Path(stderr.name))
    go.touch()
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), [(out, e.read_text())
                                                   for out, e in zip(outputs, errors, strict=True)]
    wins = [int(out.strip()) for out in outputs]
    assert sum(wins) == slots, wins
    with monitor.store.read() as conn:
        pulls = Pulls(conn).recent(0, 2**62, limit=1000)
    assert sorted(p.slot_at for p in pulls) == sorted({p.slot_at for p in pulls})
    assert len(pulls) == slots
