"""Backtest: what would edited settings have raised over the last N days of stored data?

The settings page calls this before saving. Stored rows of the analysis sources are
replayed twice through the exact cycle code (``monitoring.replay``) on throwaway
stores, once with the current settings and once with the edited ones, so an admin
compares like with like. The first days of the range become the reference, as they
would for a new deployment; the live store is only read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.replay import ReplayResult, replay
from monitoring.settings import SPEC_BY_KEY
from monitoring.store import Predictions
from monitoring.timeutil import from_ms, to_ms

REPLAYED_GROUPS = ("Drift", "Alerts", "Fields", "Schedule")
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Outcome:
    episodes: int
    by_kind: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class Backtest:
    days: float
    pulls: int
    rows: int
    thinned: bool
    current: Outcome
    proposed: Outcome
    note: str


def _outcome(result: ReplayResult) -> Outcome:
    drift = [a for a in result.opened if a.category == "drift"]
    kinds = Counter(f"{a.field}/{a.kind}" for a in drift)
    return Outcome(len(drift), dict(sorted(kinds.items())), result.seconds)


def replayable(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Only the settings that change detection and alerting (never endpoint secrets)."""
    return {k: v for k, v in settings.items()
            if k in SPEC_BY_KEY and SPEC_BY_KEY[k].group in REPLAYED_GROUPS}


def load_pulls(monitor: Monitor, fields: list[str], days: float,
               max_rows: int = MAX_ROWS) -> tuple[dict, int, bool]:
    """Stored rows of the last ``days`` grouped into pulls; evenly thinned beyond ``max_rows``."""
    end = monitor.clock()
    start = end - timedelta(days=days)
    with monitor.store.read() as conn:
        repo = Predictions(conn)
        total = sum(n for _, n, *_ in repo.series(fields[0], to_ms(start), to_ms(end),
                                                  monitor.analysis_sources, 30 * 86_400_000))
        keep_every = max(1, -(-total // max_rows))
        pulls: dict = {}
        for row in repo.rows(to_ms(start), to_ms(end), monitor.analysis_sources):
            if row["ordinal"] % keep_every:
                continue
            values = {f: row.get(f) for f in fields if row.get(f) is not None}
            if values:
                pulls.setdefault(from_ms(row["predicted_at"]), []).append(values)
    return pulls, sum(len(v) for v in pulls.values()), keep_every > 1


def backtest(monitor: Monitor, changes: Mapping[str, Any], days: float = 30.0) -> Backtest:
    """Replay the last ``days`` with the current and with the edited settings."""
    if not 7 <= days <= 120:
        raise ValidationError("backtest between 7 and 120 days (the first week becomes the reference)")
    current = replayable(monitor.settings.effective())
    proposed = {**current, **replayable(monitor.settings.validate(changes))}
    fields = list(proposed["monitored_fields"])
    pulls, rows, thinned = load_pulls(monitor, fields, days)
    if len(pulls) < 48:
        raise ValidationError(f"only {len(pulls)} pulls of {', '.join(fields)} in the last {days:g} days; "
                              "a backtest needs at least two days of data beyond the reference")
    before = replay(pulls, fields, current)
    after = replay(pulls, fields, proposed)
    note = (f"replayed {len(pulls)} pulls ({rows} rows) from "
            f"{min(pulls):%Y-%m-%d %H:%M} to {max(pulls):%Y-%m-%d %H:%M} UTC; the first "
            f"{proposed['reference_min_days']:g} days form the reference")
    if thinned:
        note += f"; rows were evenly thinned to at most {MAX_ROWS} for speed"
    return Backtest(days, len(pulls), rows, thinned, _outcome(before), _outcome(after), note)
