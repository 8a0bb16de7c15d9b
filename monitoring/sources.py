"""Where a cycle's rows come from: the endpoint, the simulator, or a replayed file.

Every source answers ``fetch(slot)`` with a ``Fetched`` and never raises for a
failed call: a failure is data (recorded on the pull), not an exception that could
stop the scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitoring.mock import MockProfile, mock_rows


@dataclass(frozen=True)
class Fetched:
    """The result of asking a source for one slot's predictions."""

    source: str
    items: Sequence[Any] = ()
    rejected: Sequence[tuple[str, str]] = ()  # (raw text, reason) the mapper could not use
    ok: bool = True
    latency_ms: float | None = None
    attempts: int = 0
    http_status: int | None = None
    error: str | None = None
    breaker_state: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Source(Protocol):
    name: str

    def fetch(self, slot: datetime) -> Fetched: ...


class MockSource:
    """Simulated rows (labelled ``mock``), deterministic per slot."""

    name = "mock"

    def __init__(self, profile: MockProfile = MockProfile()) -> None:
        self.profile = profile

    def fetch(self, slot: datetime) -> Fetched:
        return Fetched("mock", mock_rows(slot, self.profile), ok=True, latency_ms=0.0)


class ReplaySource:
    """Rows of a history file, grouped by timestamp: each group is one pull."""

    name = "import"

    def __init__(self, pulls: Mapping[datetime, Sequence[Mapping[str, Any]]]) -> None:
        self.pulls = pulls

    def fetch(self, slot: datetime) -> Fetched:
        rows = self.pulls.get(slot)
        if rows is None:
            return Fetched("import", ok=False, error="no rows in the file for this time")
        return Fetched("import", list(rows), ok=True, latency_ms=0.0)
