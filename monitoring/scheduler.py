"""The hourly pull, on an APScheduler thread, with a lease so instances never pull twice.

Fire times are aligned to multiples of the interval since the epoch, so every
process sharing the store aims at the same slot; the first to claim the slot's
lease row pulls and the others skip it. A job that fails is logged and recorded,
never allowed to kill the scheduler. Time comes in through ``clock`` so tests drive
``tick(now)`` directly instead of waiting for the interval.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitoring.context import Monitor
from monitoring.errors import MonitoringError
from monitoring.store import RuntimeState
from monitoring.timeutil import from_ms, iso, to_ms

log = logging.getLogger(__name__)

JOB_ID = "pull-cycle"
WATCH_ID = "settings-watch"
LEASE = "pull"
STATUS_KEY = "scheduler"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MISFIRE_GRACE_SECONDS = 300
LEASE_TTL_MS = 15 * 60_000
CATCH_UP_MAX_SECONDS = LEASE_TTL_MS / 1000 / 3  # well inside the lease; the rest follows next cycle


class CycleRunner(Protocol):
    def run_cycle(self, now: datetime, kind: str = "scheduled") -> Any: ...

    def catch_up(self, now: datetime, max_seconds: float | None = None) -> Any: ...


def slot_start(now: datetime, interval: timedelta) -> datetime:
    """The start of the interval slot containing ``now`` (aligned to the epoch)."""
    seconds = interval.total_seconds()
    elapsed = (now - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=(elapsed // seconds) * seconds)


def make_trigger(interval: timedelta) -> IntervalTrigger:
    """An interval trigger whose fire times are epoch-aligned slot starts."""
    return IntervalTrigger(seconds=int(interval.total_seconds()), start_date=EPOCH, timezone=UTC)


class PullScheduler:
    """Owns the background thread; ``tick`` is the whole job and can be called directly."""

    def __init__(self, monitor: Monitor, runner: CycleRunner, *,
                 clock: Callable[[], datetime] | None = None,
                 holder: str | None = None) -> None:
        self.monitor = monitor
        self.runner = runner
        self.clock = clock or monitor.clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._scheduler: BackgroundScheduler | None = None
        self._interval = self._configured_interval()
        self._lock = threading.Lock()
        self._periodic: dict[str, tuple[Callable[[], Any], float, str, int]] = {}
        # wake() vs stop(): APScheduler's shutdown(wait=True) holds its job store lock while it
        # joins running jobs, so a job calling modify_job then would deadlock the shutdown.
        self._wake_lock = threading.Lock()
        self._closing = False

    def _configured_interval(self) -> timedelta:
        return timedelta(minutes=int(self.monitor.settings.effective()["pull_interval_minutes"]))

    @property
    def interval(self) -> timedelta:
        return self._interval

    # -- the job ------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> bool:
        """Run one cycle for the slot containing ``now`` if this process wins its lease."""
        now = now or self.clock()
        slot = slot_start(now, self._interval)
        with self._lock:
            try:
                with self.monitor.store.transaction() as conn:
                    runtime = RuntimeState(conn)
                    claimed = runtime.claim_slot(LEASE, self.holder, to_ms(slot), to_ms(now), LEASE_TTL_MS)
                    holder = None if claimed else (runtime.lease(LEASE) or {}).get("holder")
            except MonitoringError as exc:
                # Not recorded in the store: what broke the lease (a full disk, a read-only
                # share) breaks that write too. Health reads the store's last write error.
                log.error("could not take the pull lease: %s", exc)
                return False
            if not claimed:
                # The same process too: the start-up pull and the interval trigger can meet in one slot.
                who = "this process" if holder == self.holder else f"another instance ({holder})"
                log.info("slot %s is already taken by %s; skipping", iso(slot), who)
                return False
            ok, error, report = True, None, None
            try:
                try:
                    report = self.runner.run_cycle(now, "scheduled")
                    errors = list(getattr(report, "errors", None) or [])
                    if errors:
                        # A pull that could not be stored is a failed cycle (health goes stale, and a
                        # new instance may help); a detection error is shown but counts as a run:
                        # replacing the instance would not fix it, detection catches up next cycle.
                        error = "; ".join(errors)
                        ok = not any(e.startswith("store:") for e in errors)
                except MonitoringError as exc:
                    ok, error = False, str(exc)
                    log.error("pull cycle failed: %s", exc)
                except Exception as exc:  # noqa: BLE001 - a job must never kill the scheduler
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                    log.exception("pull cycle crashed; the scheduler keeps running")
                self._record(now, ok=ok, error=error)  # health sees the cycle before any catch-up
                if getattr(report, "drift_deferred", None):
                    self._catch_up(now)
            finally:
                try:
                    with self.monitor.store.transaction() as conn:
                        RuntimeState(conn).finish_slot(LEASE, self.holder, to_ms(slot))
                except MonitoringError as exc:
                    log.error("could not release the pull lease: %s", exc)
            return ok

    def _catch_up(self, now: datetime) -> None:
        """Drift work the cycle's budget deferred, while still holding the lease (no other
        instance checks the same pulls); a failure here never fails the cycle that ran.

        Bounded by a third of the lease and half the interval, so the next slot's pull
        never waits behind it, even at a 1-minute interval.
        """
        try:
            self.runner.catch_up(now, max_seconds=min(CATCH_UP_MAX_SECONDS,
                                                      self._interval.total_seconds() / 2))
        except Exception:  # noqa: BLE001 - a job must never kill the scheduler
            log.exception("drift catch-up crashed; it continues after the next cycle")

    def _record(self, now: datetime, ok: bool | None, error: str | None) -> None:
        """Record a run (``ok`` True/False) or, with ``ok=None``, only a new interval and next run.

        ``first_run_at`` anchors the health check's freshness until the first success, so
        cycles that fail from the very start still turn the instance unhealthy.
        """
        try:
            with self.monitor.store.transaction() as conn:
                state = RuntimeState(conn)
                status = state.get(STATUS_KEY) or {}
                status.update({"interval_minutes": self._interval.total_seconds() / 60,
                               "next_run_at": to_ms(self.next_run_time(now))})
                if ok is not None:
                    status.update({"last_run_at": to_ms(now), "holder": self.holder, "last_error": error})
                    status.setdefault("first_run_at", to_ms(now))
                if ok:
                    status["last_success_at"] = to_ms(now)
                state.put(STATUS_KEY, status, to_ms(now))
        except MonitoringError as exc:
            log.error("could not record the scheduler status: %s", exc)

    def next_run_time(self, now: datetime) -> datetime:
        return slot_start(now, self._interval) + self._interval

    # -- runtime changes ----------------------------------------------------------------------
    def refresh_interval(self) -> bool:
        """Pick up an admin's interval change without a restart; True when it changed."""
        interval = self._configured_interval()
        if interval == self._interval:
            return False
        log.info("pull interval changed from %s to %s", self._interval, interval)
        self._interval = interval
        if self._scheduler is not None:
            self._scheduler.reschedule_job(JOB_ID, trigger=make_trigger(interval))
        self._record(self.clock(), ok=None, error=None)
        return True

    def _watch(self) -> None:
        try:
            self.refresh_interval()
        except MonitoringError as exc:
            log.error("could not read the pull interval: %s", exc)

    # -- other periodic work (e.g. notification delivery) ---------------------------------------
    def add_periodic(self, job_id: str, func: Callable[[], Any], seconds: float, *, name: str,
                     max_instances: int = 1) -> None:
        """Run ``func`` every ``seconds`` (and once at start) on this scheduler's thread pool.

        Not lease-bound: such work must be safe to run in every instance at once.
        """
        self._periodic[job_id] = (func, seconds, name, max_instances)
        if self._scheduler is not None:
            self._add_periodic(self._scheduler, job_id)

    def _add_periodic(self, scheduler: BackgroundScheduler, job_id: str) -> None:
        func, seconds, name, max_instances = self._periodic[job_id]

        def job() -> None:
            try:
                func()
            except Exception:  # noqa: BLE001 - a job must never kill the scheduler
                log.exception("%s crashed; it runs again at its next interval", name)

        scheduler.add_job(job, IntervalTrigger(seconds=seconds, timezone=UTC), id=job_id, name=name,
                          replace_existing=True, max_instances=max_instances,
                          next_run_time=datetime.now(UTC))

    def wake(self, job_id: str) -> bool:
        """Run a periodic job now instead of at its next interval (False when not running)."""
        with self._wake_lock:
            if self._scheduler is None or self._closing:
                return False
            try:
                self._scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
            except JobLookupError:
                return False
            return True

    # -- thread -------------------------------------------------------------------------------
    def _first_run(self, prepare: Callable[[], None] | None) -> None:
        """The first job: optional preparation (e.g. the demo backfill), then a pull now."""
        if prepare is not None:
            with self._lock:
                try:
                    prepare()
                except Exception:  # noqa: BLE001 - preparation must not stop the scheduler
                    log.exception("start-up preparation failed; the schedule continues")
        self.tick()

    def start(self, run_now: bool = True, prepare: Callable[[], None] | None = None) -> None:
        if self._scheduler is not None:
            return
        self._closing = False
        scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
        scheduler.add_job(self.tick, make_trigger(self._interval), id=JOB_ID, name="pull cycle",
                          replace_existing=True)
        scheduler.add_job(self._watch, IntervalTrigger(seconds=30, timezone=UTC), id=WATCH_ID,
                          name="settings watch", replace_existing=True)
        for job_id in self._periodic:
            self._add_periodic(scheduler, job_id)
        if run_now or prepare is not None:
            scheduler.add_job(self._first_run, args=[prepare], id="pull-now", name="first pull",
                              replace_existing=True)
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started", extra={"interval_minutes": self._interval.total_seconds() / 60,
                                             "holder": self.holder})

    def stop(self, wait: bool = True) -> None:
        if self._scheduler is None:
            return
        with self._wake_lock:  # from here on, a job's wake() is a no-op instead of a deadlock
            self._closing = True
        self._scheduler.shutdown(wait=wait)
        self._scheduler = None
        log.info("scheduler stopped")

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def job(self) -> Any:
        return self._scheduler.get_job(JOB_ID) if self._scheduler else None


def scheduler_status(monitor: Monitor) -> dict[str, Any]:
    """Last/next run as recorded in the store (any instance), for health and pages."""
    with monitor.store.read() as conn:
        status = RuntimeState(conn).get(STATUS_KEY) or {}
    return {k: (from_ms(v) if k.endswith("_at") and v is not None else v) for k, v in status.items()}
