"""Caches the latest health status so a ping never waits on the store.

App Service pings every instance every minute and a ping must stay cheap while a
cycle runs; ``/health`` answers from this cache (refreshed in the background when
older than ``max_age``), ``/health/ready`` computes a fresh report.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from health.checker import UNHEALTHY, Check, HealthChecker, HealthStatus
from monitoring.timeutil import iso


class HealthService:
    """Thread-safe cache around a HealthChecker, plus the rate-limited endpoint probe."""

    def __init__(self, checker: HealthChecker, max_age_seconds: float = 10.0,
                 probe: Callable[[], Check] | None = None, probe_every_seconds: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 stalled_after_seconds: float | None = None) -> None:
        self.checker = checker
        self.max_age = max_age_seconds
        # A refresh that has not returned by then is hung (e.g. the /home share stopped answering).
        self.stalled_after = (6 * max_age_seconds if stalled_after_seconds is None
                              else stalled_after_seconds)
        self.probe_fn = probe
        self.probe_every = probe_every_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._status: HealthStatus | None = None
        self._taken_at = 0.0
        self._refreshing = False
        self._last_probe: tuple[float, Check] | None = None
        self._answer: tuple[HealthStatus, int, bytes] | None = None  # liveness, serialised once
        self._probe_lock = threading.Lock()  # one probe at a time: concurrent askers share it

    def fresh(self) -> HealthStatus:
        status = self.checker.check()
        with self._lock:
            self._status, self._taken_at = status, self.monotonic()
        return status

    def cached(self) -> HealthStatus | None:
        """The last status (None before the first); stale ones refresh in the background.

        A refresh that hangs must not leave liveness answering the old "healthy" forever: once
        the cached status is older than ``stalled_after`` while a refresh is still running, the
        answer is unhealthy, so App Service replaces an instance whose store stopped answering.
        """
        with self._lock:
            status, age = self._status, self.monotonic() - self._taken_at
            stalled = status is not None and self._refreshing and age > self.stalled_after
            refresh = status is not None and age > self.max_age and not self._refreshing
            if refresh:
                self._refreshing = True
        if refresh:
            threading.Thread(target=self._refresh, name="health-refresh", daemon=True).start()
        if stalled and status is not None:
            hung = Check("health_check", UNHEALTHY,
                         f"the health check has not finished for {age:.0f} s; the store may be hung",
                         {"age_seconds": round(age)})
            return HealthStatus(UNHEALTHY, (*status.checks, hung),
                                status.checked_at + timedelta(seconds=age), status.duration_ms)
        return status

    def liveness(self) -> tuple[int, bytes] | None:
        """``/health``'s status code and JSON body from the cached status (None before the first).

        Serialised once per status, not per ping: under 50 concurrent pollers the per-request
        JSON work was a sixth of the server's time.
        """
        status = self.cached()
        if status is None:
            return None
        with self._lock:
            answer = self._answer
        if answer is not None and answer[0] is status:
            return answer[1], answer[2]
        code = status.http_status
        body = json.dumps({"status": status.status, "checked_at": iso(status.checked_at)}).encode()
        with self._lock:
            self._answer = (status, code, body)
        return code, body

    def _refresh(self) -> None:
        try:
            self.fresh()
        finally:
            with self._lock:
                self._refreshing = False

    def probe(self) -> Check | None:
        """Call the scoring endpoint at most once per ``probe_every`` seconds."""
        if self.probe_fn is None:
            return None
        with self._probe_lock:
            with self._lock:
                last = self._last_probe
            if last and self.monotonic() - last[0] < self.probe_every:
                cached = last[1]
                return Check(cached.name, cached.status, cached.detail + " (cached; rate-limited)",
                             cached.data)
            check = self.probe_fn()
            with self._lock:
                self._last_probe = (self.monotonic(), check)
            return check
