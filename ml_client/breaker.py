"""A circuit breaker in front of the scoring endpoint.

After ``threshold`` failed calls in a row the breaker opens: calls fail at once with
``BreakerOpenError`` (no network, ``attempts == 0``) so a dead endpoint costs nothing
and the pipeline falls back. After ``cooldown`` seconds one caller is let through as a
half-open probe: success closes the breaker, failure opens it for another cool-down.

The scheduler thread calls it while the health route reads ``snapshot()``: every method
takes the lock. The clock is injected so tests never sleep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ml_client.errors import BreakerOpenError

log = logging.getLogger("ml_client.breaker")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSnapshot:
    """The breaker at one instant, for /health/ready and metrics.

    ``opened_at`` and ``next_probe_at`` are readings of the breaker's clock (monotonic by
    default); ``seconds_to_probe`` is clock-independent.
    """

    state: BreakerState
    consecutive_failures: int
    opened_at: float | None
    next_probe_at: float | None
    seconds_to_probe: float | None


class CircuitBreaker:
    """Closed -> open after ``threshold`` consecutive failures -> half-open after ``cooldown``."""

    def __init__(self, threshold: int = 3, cooldown: float = 900.0, *,
                 clock: Callable[[], float] = time.monotonic, name: str = "Azure ML endpoint") -> None:
        if threshold < 1 or cooldown <= 0:
            raise ValueError("threshold must be >= 1 and cooldown > 0")
        self.threshold = threshold
        self.cooldown = cooldown
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state

    def allow(self) -> None:
        """Admit a call or raise ``BreakerOpenError``; admits one probe once the cool-down is over."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return
            now = self._clock()
            next_probe = self._next_probe_at()
            if self._state is BreakerState.OPEN and now >= next_probe:
                self._transition(BreakerState.HALF_OPEN, "cool-down over; letting one probe call through")
            if self._state is BreakerState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return
            retry_in = max(next_probe - now, 0.0)
            waiting = ("a probe call is in flight" if self._state is BreakerState.HALF_OPEN
                       else f"the next probe is in {retry_in:.0f} s")
            failures = self._failures
        raise BreakerOpenError(
            f"the circuit breaker for the {self.name} is open after {failures} failed calls "
            f"in a row, so this call was not sent; {waiting}. Check the endpoint's state and logs in "
            "Azure ML studio; pulls use the fallback meanwhile", retry_in=retry_in)

    def record_success(self) -> None:
        with self._lock:
            self._probe_in_flight = False
            self._failures = 0
            if self._state is not BreakerState.CLOSED:
                self._opened_at = None
                self._transition(BreakerState.CLOSED, "probe succeeded; calls flow again")

    def record_failure(self) -> None:
        with self._lock:
            self._probe_in_flight = False
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN:
                self._open("the probe call failed")
            elif self._state is BreakerState.CLOSED and self._failures >= self.threshold:
                self._open(f"{self._failures} calls in a row failed")

    def release(self) -> None:
        """End an admitted call that gave no verdict on the endpoint (e.g. our credential failed)."""
        with self._lock:
            self._probe_in_flight = False

    def reset(self) -> None:
        """Close the breaker (an admin changed the endpoint)."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probe_in_flight = False
            if self._state is not BreakerState.CLOSED:
                self._transition(BreakerState.CLOSED, "reset")

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            if self._opened_at is None:
                return BreakerSnapshot(self._state, self._failures, None, None, None)
            next_probe = self._next_probe_at()
            return BreakerSnapshot(self._state, self._failures, self._opened_at, next_probe,
                                   max(next_probe - self._clock(), 0.0))

    # -- internals (lock held) --

    def _next_probe_at(self) -> float:
        return (self._opened_at or 0.0) + self.cooldown

    def _open(self, why: str) -> None:
        self._opened_at = self._clock()
        self._transition(BreakerState.OPEN, f"{why}; failing fast for {self.cooldown:.0f} s")

    def _transition(self, new: BreakerState, why: str) -> None:
        old, self._state = self._state, new
        level = logging.WARNING if new is BreakerState.OPEN else logging.INFO
        log.log(level, "circuit breaker for the %s: %s -> %s (%s)", self.name, old.value, new.value, why,
                extra={"breaker_state": new.value, "consecutive_failures": self._failures})
