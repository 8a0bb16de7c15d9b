"""``replay``: run the exact cycle code over a history file with a simulated clock.

Each group of rows sharing a ``predicted_at`` is one pull; the clock is set to that
time and ``Pipeline.run_cycle`` runs fetch -> validate -> store -> detect -> alert as
the scheduler would, against a throwaway encrypted store in a temporary folder (the
live store is never opened). Every alert episode opened is written as one JSON line.
This is how thresholds are tested, how admins backtest settings, and how the drift
benchmark scores the detector.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.errors import ValidationError
from monitoring.importer import read_frames, read_header
from monitoring.pipeline import Pipeline
from monitoring.sources import ReplaySource
from monitoring.store import Alert, Settings
from monitoring.telemetry import configured_level
from monitoring.timeutil import from_ms, iso, to_ms, utcnow
from monitoring.validation import TIME_FIELD, VERSION_FIELD, parse_time


@dataclass
class ReplayResult:
    pulls: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    opened: list[Alert] = field(default_factory=list)
    seconds: float = 0.0
    fields: tuple[str, ...] = ()

    def summary(self) -> str:
        by_key: dict[str, int] = {}
        for alert in self.opened:
            key = f"{alert.field or 'operational'}/{alert.kind}"
            by_key[key] = by_key.get(key, 0) + 1
        counts = ", ".join(f"{k}: {n}" for k, n in sorted(by_key.items())) or "none"
        return (f"replayed {self.pulls} pulls ({self.rows_stored} rows stored, {self.rows_rejected} "
                f"quarantined) of {', '.join(self.fields)} in {self.seconds:.1f} s; "
                f"{len(self.opened)} alert episode(s) opened: {counts}")


def episode_line(alert: Alert) -> dict[str, Any]:
    return {"opened_at": iso(from_ms(alert.opened_at)), "field": alert.field, "kind": alert.kind,
            "severity": alert.severity, "category": alert.category,
            "methods": alert.details.get("methods", [])}


def read_pulls(path: Path) -> tuple[dict[datetime, list[dict[str, Any]]], tuple[str, ...]]:
    """Rows grouped by ``predicted_at``; numbers are parsed, bad cells left for validation."""
    columns = read_header(path)
    fields = tuple(c for c in columns if c not in (TIME_FIELD, VERSION_FIELD))
    frames = list(read_frames(path, 1_000_000, "nothing was replayed"))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    pulls: dict[datetime, list[dict[str, Any]]] = {}
    unparsed: list[dict[str, Any]] = []
    numeric = {name: pd.to_numeric(frame[name], errors="coerce") for name in fields}
    for i, stamp in enumerate(frame[TIME_FIELD].tolist()):
        row: dict[str, Any] = {}
        for name in fields:
            value = numeric[name].iat[i]
            row[name] = float(value) if pd.notna(value) else (frame[name].iat[i] or None)
        if VERSION_FIELD in frame.columns:
            row[VERSION_FIELD] = frame[VERSION_FIELD].iat[i] or None
        try:
            when = parse_time(stamp)
        except ValidationError:
            unparsed.append({**row, TIME_FIELD: stamp})
            continue
        pulls.setdefault(when, []).append(row)
    if not pulls:
        raise ValidationError(f"{path} holds no rows with a valid '{TIME_FIELD}'")
    if unparsed:
        first = min(pulls)
        pulls[first] = [*pulls[first], *unparsed]  # quarantined with their reason, not dropped
    return dict(sorted(pulls.items())), fields


def replay(pulls: Mapping[datetime, Sequence[Mapping[str, Any]]], fields: Sequence[str],
           settings: Mapping[str, Any] | None = None, workdir: Path | None = None) -> ReplayResult:
    """Replay pulls through a fresh pipeline; returns what it stored and opened."""
    started = time.perf_counter()
    clock_now = [min(pulls)]
    with tempfile.TemporaryDirectory(prefix="monitor-replay-", dir=workdir) as tmp:
        config = load_config({"MONITOR_DATA_DIR": tmp, "MONITOR_DB_KEY": secrets.token_hex(32),
                              "AUTH_COOKIE_KEY": secrets.token_hex(32),
                              # in the app (a backtest): keep its level; its replay lines are filtered
                              "LOG_LEVEL": configured_level() or "WARNING"})
        monitor = open_monitor(config, clock=lambda: clock_now[0], bootstrap_admin=False,
                               durable=False, sources=("import",))
        try:
            _apply_settings(monitor, {"monitored_fields": list(fields), "mock_fallback": False,
                                      **(settings or {})})
            pipeline = Pipeline(monitor, ReplaySource(pulls), detector=_detector(monitor))
            result = ReplayResult(fields=tuple(fields))
            for moment in pulls:
                clock_now[0] = moment
                report = pipeline.run_cycle(moment, "replay")
                result.pulls += 1
                if report.pull:
                    result.rows_stored += report.pull.rows_stored
                    result.rows_rejected += report.pull.rows_rejected
                result.opened += report.changes.opened
        finally:
            monitor.close()
    result.seconds = time.perf_counter() - started
    result.opened.sort(key=lambda a: (a.opened_at, a.id))
    return result


def _detector(monitor: Monitor) -> Any:
    from monitoring.detection import DriftService

    return DriftService(monitor)


def _apply_settings(monitor: Monitor, changes: Mapping[str, Any]) -> None:
    clean = monitor.settings.validate(changes)
    now = to_ms(utcnow())
    with monitor.store.transaction() as conn:
        for key, value in clean.items():
            Settings(conn).put(key, value, now, "replay")


def load_settings_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError(f"there is no settings file at {path}") from exc
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path} is not a readable JSON file: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{path} must hold a JSON object of setting -> value")
    return data
