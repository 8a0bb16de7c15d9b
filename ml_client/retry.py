"""urllib3's ``Retry`` with a deadline and an attempt counter.

urllib3 does the retrying (inside the connection pool that requests' ``HTTPAdapter``
uses); this subclass only changes *how long to wait* and *whether to go on*:

- it waits ``backoff_factor * 2**(n-1)`` plus jitter before the n-th retry (stock
  urllib3 retries the first time without waiting, which hammers a 429 that came
  without Retry-After), capped by ``backoff_max``;
- it honours Retry-After exactly, and stops instead of retrying early when the server
  asks for more than ``retry_after_max`` seconds;
- it stops when the wait would end past the call's deadline, so that one call never
  runs much beyond ``total_deadline`` (an attempt under way is bounded by its own
  connect/read timeouts);
- it counts attempts and remembers the last status in a ``CallBudget`` shared by the
  copies urllib3 makes with ``new()``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

#: Statuses retried: request timeout, too many requests, and server errors except
#: 501/505 (not transient). 424 (the model failed) is not retried; see client.py.
RETRY_STATUSES = frozenset({408, 429} | set(range(500, 600)) - {501, 505})

_UNCLAMPED = Retry(retry_after_max=Retry.DEFAULT_RETRY_AFTER_MAX)


class RetryStopped(Exception):
    """Raised from ``sleep()`` to end the retries early; the client turns it into an EndpointError."""

    def __init__(self, reason: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass
class CallBudget:
    """Per-call state: the deadline, and what happened so far."""

    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 1
    last_status: int | None = None
    waited: float = 0.0

    def remaining(self) -> float:
        return self.deadline - self.clock()


class DeadlineRetry(Retry):
    """A ``Retry`` that respects a ``CallBudget``; build one per call with ``for_call``."""

    def __init__(self, *args: Any, budget: CallBudget | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    @classmethod
    def for_call(cls, *, max_attempts: int, backoff_factor: float, backoff_max: float,
                 backoff_jitter: float, max_retry_after: float, budget: CallBudget) -> DeadlineRetry:
        return cls(
            total=max_attempts - 1,
            connect=None, read=None, status=None,
            other=0,                      # TLS and other odd errors: not transient, fail now
            redirect=0, raise_on_redirect=False,
            allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"POST"},  # scoring has no side effects
            status_forcelist=RETRY_STATUSES,
            raise_on_status=False,        # give us the last response to describe
            respect_retry_after_header=True,
            backoff_factor=backoff_factor, backoff_max=backoff_max, backoff_jitter=backoff_jitter,
            retry_after_max=max_retry_after,  # type: ignore[arg-type]  # float works
            budget=budget,
        )

    def new(self, **kw: Any) -> DeadlineRetry:
        retry = super().new(**kw)
        retry.budget = self.budget
        return retry

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        if self.budget is not None:
            self.budget.last_status = response.status if response is not None else None
        return super().increment(method, url, response=response, error=error, _pool=_pool,
                                 _stacktrace=_stacktrace)

    def get_backoff_time(self) -> float:
        failures = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if failures == 0 or (self.backoff_factor <= 0 and self.backoff_jitter <= 0):
            return 0.0
        rng = self.budget.rng if self.budget is not None else random
        value = self.backoff_factor * 2 ** (failures - 1) + rng.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))

    def requested_wait(self, response: Any) -> float | None:
        """The server's Retry-After in seconds (unclamped), or None when absent or unreadable."""
        if response is None or not self.respect_retry_after_header:
            return None
        header = response.headers.get("Retry-After")
        if not header:
            return None
        try:
            return _UNCLAMPED.parse_retry_after(header)
        except InvalidHeader:
            return None

    def sleep(self, response: Any = None) -> None:
        budget = self.budget
        if budget is None:
            super().sleep(response)
            return
        status = response.status if response is not None else budget.last_status
        requested = self.requested_wait(response)
        if requested is not None and requested > self.retry_after_max:
            raise RetryStopped(f"the endpoint asked to wait {requested:.0f} s before retrying, longer "
                               f"than the {self.retry_after_max:g} s we wait", status, requested)
        wait = requested if requested else self.get_backoff_time()
        remaining = budget.remaining()
        if wait >= remaining:
            raise RetryStopped(f"the next retry would start after {wait:.1f} s but only "
                               f"{max(remaining, 0):.1f} s of the call's deadline were left", status,
                               requested)
        if wait > 0:
            budget.sleep(wait)
            budget.waited += wait
        budget.attempts += 1
