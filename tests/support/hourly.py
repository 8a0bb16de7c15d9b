"""Hourly pulls written straight through the repositories, for drift-service tests.

One pull record per hour (the detector groups rows by pull), simulated source by
default (what a demo-mode monitor analyses), all in one transaction: a month of
history takes milliseconds instead of a cycle per hour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from monitoring.context import Monitor
from monitoring.store import Predictions, PullRecord, Pulls, StoredRow
from monitoring.timeutil import to_ms


def store_pulls(monitor: Monitor, start: datetime, pulls: Sequence[Sequence[Mapping[str, float]]],
                source: str = "mock", kind: str = "scheduled") -> datetime:
    """One pull per hour from ``start``, each holding its rows (field -> value); returns the last time."""
    moment = start
    with monitor.store.transaction() as conn:
        for i, rows in enumerate(pulls):
            moment = start + timedelta(hours=i)
            at = to_ms(moment)
            pull_id = Pulls(conn).add(PullRecord(slot_at=at, started_at=at, finished_at=at, kind=kind,
                                                 source=source, outcome="ok", rows_received=len(rows),
                                                 rows_stored=len(rows)))
            Predictions(conn).insert(pull_id, source,
                                     [StoredRow(at, j, dict(row)) for j, row in enumerate(rows)])
    return moment


def store_hourly(monitor: Monitor, field: str, start: datetime, values: Sequence[float],
                 source: str = "mock") -> datetime:
    """One single-row pull per hour from ``start``; returns the time of the last pull."""
    return store_pulls(monitor, start, [[{field: float(value)}] for value in values], source)
