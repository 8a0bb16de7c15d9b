"""Health: a status (healthy, degraded, unhealthy) with its checks; never raises.

Everything is read from the store and the process (never from the scoring endpoint),
so a ping costs a few cheap queries. ``degraded`` means the product still works
(e.g. the endpoint is down and simulated fallback is on); ``unhealthy`` means this
instance should be replaced (the store is unusable or the scheduler is dead).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import psutil

from monitoring.context import Monitor
from monitoring.machine import memory_percent
from monitoring.scheduler import scheduler_status
from monitoring.store import Pulls
from monitoring.timeutil import from_ms, iso

log = logging.getLogger(__name__)


def _from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthStatus:
    status: str
    checks: tuple[Check, ...]
    checked_at: datetime
    duration_ms: float

    @property
    def http_status(self) -> int:
        """What the routes answer: 503 only when this instance should be replaced."""
        return 503 if self.status == UNHEALTHY else 200

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "checked_at": iso(self.checked_at),
                "duration_ms": round(self.duration_ms, 2),
                "checks": [asdict(c) for c in self.checks]}


@dataclass(frozen=True)
class Limits:
    memory_percent_degraded: float = 90.0
    disk_free_mb_degraded: float = 500.0
    disk_free_mb_unhealthy: float = 50.0
    stale_factor: float = 2.0
    grace_minutes: float = 5.0


class HealthChecker:
    """Builds a HealthStatus from the store, the scheduler and the machine."""

    def __init__(self, monitor: Monitor, *, scheduler_alive: Callable[[], bool | None] = lambda: None,
                 breaker_state: Callable[[], str | None] = lambda: None,
                 limits: Limits = Limits(), clock: Callable[[], datetime] | None = None,
                 telemetry: Callable[[], dict[str, Any] | None] = lambda: None) -> None:
        self.monitor = monitor
        self.scheduler_alive = scheduler_alive
        self.breaker_state = breaker_state
        self.telemetry = telemetry
        self.limits = limits
        self.clock = clock or monitor.clock

    def check(self) -> HealthStatus:
        started = time.perf_counter()
        now = self.clock()
        checks: list[Check] = []
        for probe in (self._database, self._scheduler, self._pulls, self._resources, self._telemetry):
            try:
                checks.append(probe(now))
            except Exception as exc:  # noqa: BLE001 - health must report, never raise
                log.warning("health probe %s failed: %s", probe.__name__, exc)
                checks.append(Check(probe.__name__.strip("_"), UNHEALTHY,
                                    f"probe failed: {type(exc).__name__}"))
        status = max((c.status for c in checks), key=_RANK.__getitem__, default=HEALTHY)
        return HealthStatus(status, tuple(checks), now, (time.perf_counter() - started) * 1000)

    def _database(self, now: datetime) -> Check:
        started = time.perf_counter()
        try:
            with self.monitor.store.read() as conn:
                conn.execute("SELECT 1 FROM schema_version LIMIT 1").fetchone()
        except Exception as exc:  # noqa: BLE001
            return Check("database", UNHEALTHY, f"the store cannot be read: {type(exc).__name__}")
        elapsed = (time.perf_counter() - started) * 1000
        store = self.monitor.store
        data = {"query_ms": round(elapsed, 2), "journal_mode": store.journal_mode}
        if store.last_write_error:
            at, message = store.last_write_error
            return Check("database", UNHEALTHY, f"writes are failing since {iso(_from_epoch(at))}: "
                         f"{message}; check disk space and that MONITOR_DATA_DIR is writable", data)
        if store.last_write_failure and now.timestamp() - store.last_write_failure[0] < 3600:
            at, message = store.last_write_failure
            return Check("database", DEGRADED, f"a write failed at {iso(_from_epoch(at))} ({message}); "
                         "later writes succeeded", data)
        return Check("database", HEALTHY, "the encrypted store answers", data)

    def _scheduler(self, now: datetime) -> Check:
        """Fresh means a *successful* cycle within 2x the interval (plus a grace for the cycle itself).

        Cycles that run but keep failing (e.g. the store refuses writes) must turn the instance
        unhealthy, so the age is measured from the last success, or from the first run before any.
        """
        alive = self.scheduler_alive()
        status = scheduler_status(self.monitor)
        interval = float(self.monitor.settings.effective()["pull_interval_minutes"])
        last_run, last_ok = status.get("last_run_at"), status.get("last_success_at")
        data = {"alive": alive, "last_run_at": iso(last_run), "next_run_at": iso(status.get("next_run_at")),
                "last_success_at": iso(last_ok), "interval_minutes": interval}
        if alive is False:
            return Check("scheduler", UNHEALTHY, "the scheduler thread is not running", data)
        limit_s = (interval * self.limits.stale_factor + self.limits.grace_minutes) * 60
        anchor = last_ok or status.get("first_run_at") or last_run
        if anchor is None:
            return Check("scheduler", HEALTHY if alive else DEGRADED, "no cycle has run yet", data)
        age = (now - anchor).total_seconds()
        data["age_seconds"] = round(age)
        if age > limit_s:
            what = "no successful cycle" if last_run is not None and last_run > anchor else "no cycle"
            return Check("scheduler", UNHEALTHY,
                         f"{what} for {age / 60:.0f} min (limit {limit_s / 60:.0f} min)", data)
        if status.get("last_error"):
            return Check("scheduler", DEGRADED, "the last cycle failed; see the logs", data)
        return Check("scheduler", HEALTHY, "cycles are on time", data)

    def _pulls(self, now: datetime) -> Check:
        with self.monitor.store.read() as conn:
            pulls = Pulls(conn)
            latest = pulls.latest()
            failures = pulls.consecutive_failures()
        breaker = self.breaker_state()
        demo = self.monitor.config.demo_mode
        data = {"demo_mode": demo, "breaker": breaker, "consecutive_failures": failures,
                "last_outcome": latest.outcome if latest else None,
                "last_pull_at": iso(from_ms(latest.started_at)) if latest else None}
        if demo:
            return Check("endpoint", HEALTHY, "demo mode: simulated data, no endpoint configured", data)
        if breaker == "open":
            return Check("endpoint", DEGRADED, "circuit breaker open: the endpoint keeps failing", data)
        if latest is not None and latest.outcome in ("failed", "fallback"):
            return Check("endpoint", DEGRADED,
                         f"the last {failures} pull(s) failed; fallback is labelled simulated", data)
        return Check("endpoint", HEALTHY, "the last pull succeeded" if latest else "no pull yet", data)

    def _resources(self, now: datetime) -> Check:
        memory, scope = memory_percent()
        data_dir = self.monitor.config.data_dir
        free_mb = psutil.disk_usage(str(data_dir if data_dir.exists() else ".")).free / 2**20
        rss_mb = psutil.Process().memory_info().rss / 2**20
        data = {"memory_percent": round(memory, 1), "memory_scope": scope, "disk_free_mb": round(free_mb),
                "rss_mb": round(rss_mb)}
        if free_mb < self.limits.disk_free_mb_unhealthy:
            return Check("resources", UNHEALTHY, f"only {free_mb:.0f} MB free on the data disk", data)
        if free_mb < self.limits.disk_free_mb_degraded:
            return Check("resources", DEGRADED, f"{free_mb:.0f} MB free on the data disk", data)
        if memory > self.limits.memory_percent_degraded:
            return Check("resources", DEGRADED, f"memory {memory:.0f}% used ({scope})", data)
        return Check("resources", HEALTHY, "memory and disk are fine", data)

    def _telemetry(self, now: datetime) -> Check:
        """Reported, never graded: an unreachable telemetry endpoint does not make us unhealthy."""
        configured = self.monitor.config.appinsights_connection_string is not None
        stats = self.telemetry() or {}
        data = {"configured": configured, **{k: stats[k] for k in (
            "queued", "dropped", "sent", "consecutive_failures") if k in stats}}
        detail = "Application Insights configured" if configured else "Application Insights off"
        if stats.get("failing_since"):
            detail += f"; sends failing since {iso(_from_epoch(stats['failing_since']))}"
        if stats.get("dropped"):
            detail += f"; {stats['dropped']} item(s) dropped"
        return Check("telemetry", HEALTHY, detail, data)
