"""Time ranges, chart bucket sizes and page-query timing shared by the read models."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitoring.errors import ValidationError
from monitoring.store import Metrics, Store
from monitoring.timeutil import to_ms

HOUR_MS = 3_600_000
MAX_POINTS = 400  # a chart never needs more points than it has pixels to spare
SOURCE_LABELS = {"azure_ml": "real (endpoint)", "import": "imported", "mock": "simulated"}


@dataclass(frozen=True)
class TimeRange:
    """A half-open UTC range [start, end) chosen on a page."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValidationError("a time range needs timezone-aware ends")
        if self.end <= self.start:
            raise ValidationError("the end of the range must be after its start")

    @classmethod
    def last(cls, now: datetime, days: float) -> TimeRange:
        return cls(now - timedelta(days=days), now)

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_ms(self.end)

    def bucket_ms(self, max_points: int = MAX_POINTS) -> int:
        """Whole hours per chart point so that the range fits in ``max_points`` points."""
        span = self.end_ms - self.start_ms
        hours = max(1, -(-span // (HOUR_MS * max_points)))
        return int(hours * HOUR_MS)


class PageTimings:
    """Page query latencies, buffered in memory and written by the scheduler thread.

    Pages must never wait on the store's write lock (a cycle or an import may hold it),
    so they only append here; ``flush`` writes the samples as ``page_query_ms`` metrics.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._samples: list[tuple[int, str, float, str]] = []
        self._limit = limit

    def record(self, at_ms: int, name: str, ms: float) -> None:
        with self._lock:
            if len(self._samples) < self._limit:
                self._samples.append((at_ms, "page_query_ms", ms, name))

    def drain(self) -> list[tuple[int, str, float, str]]:
        with self._lock:
            samples, self._samples = self._samples, []
        return samples

    def flush(self, store: Store) -> int:
        samples = self.drain()
        if samples:
            with store.transaction() as conn:
                Metrics(conn).add_many(samples)
        return len(samples)


TIMINGS = PageTimings()


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Time a page query into ``TIMINGS`` (kept even when the query raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        TIMINGS.record(int(time.time() * 1000), name, (time.perf_counter() - started) * 1000)
