"""Hourly pulls of one field written straight through the repositories, for drift-service tests.

One pull record per hour (the detector groups rows by pull), simulated source by
default (what a demo-mode monitor analyses), all in one transaction: a month of
history takes milliseconds instead of a cycle per hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from monitoring.context import Monitor
from monitoring.store import Predictions, PullRecord, Pulls, StoredRow
from monitoring.timeutil import to_ms


def store_hourly(monitor: Monitor, field: str, start: datetime, values: Sequence[float],
                 source: str = "mock") -> datetime:
    """One single-row pull per hour from ``start``; returns the time of the last pull."""
    moment = start
    with monitor.store.transaction() as conn:
        for i, value in enumerate(values):
            moment = start + timedelta(hours=i)
            at = to_ms(moment)
            pull_id = Pulls(conn).add(PullRecord(slot_at=at, started_at=at, finished_at=at,
                                                 kind="scheduled", source=source, outcome="ok",
                                                 rows_received=1, rows_stored=1))
            Predictions(conn).insert(pull_id, source, [StoredRow(at, 0, {field: float(value)})])
    return moment
