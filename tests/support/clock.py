"""A controllable clock so that no test ever sleeps for time to pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Callable returning a settable 'now'; ``advance`` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment
