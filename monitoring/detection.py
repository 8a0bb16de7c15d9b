"""The detect step of a cycle: per monitored field, reference -> pulls -> checks -> alerts.

For each field the service freezes a reference from the first rows of the analysis
sources once there are enough (recording why a check is skipped until then), then
folds every pull it has not yet seen into the detector state, in time order, and
turns each check's verdicts into alert signals stamped with the pull's time. Rows are
read in bounded chunks, and a live cycle's ``Budget`` may stop a pass early: the rest
is deferred, never skipped. Each chunk's state, drift runs and alert changes commit in
one transaction, so a crash repeats the work instead of skipping it. Reference models
are parsed once and kept.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from monitoring import events
from monitoring.alerts import Changes, Signal, apply_signals, drift_fingerprint
from monitoring.budget import Budget
from monitoring.context import Monitor
from monitoring.drift import (
    DetectorState,
    DriftConfig,
    FieldCheck,
    InsufficientReferenceError,
    ReferenceModel,
    fit_reference,
    group_pulls,
    initial_state,
    reference_readiness,
    retarget,
    update,
)
from monitoring.errors import ValidationError
from monitoring.store import Connection, DriftStore, Metrics, Predictions, ReferenceRecord
from monitoring.timeutil import from_ms, to_ms

log = logging.getLogger(__name__)

KIND_TITLES = {"drift": "Distribution changed", "anomaly": "Outlier rate up", "trend": "Trend"}


def drift_config(settings: Mapping[str, Any]) -> DriftConfig:
    """The detector's settings from the product's runtime settings."""
    return DriftConfig(
        false_alarms_per_30d=float(settings["false_alarms_per_30d"]),
        pull_interval_minutes=float(settings["pull_interval_minutes"]),
        reference_min_rows=int(settings["reference_min_rows"]),
        reference_min_days=float(settings["reference_min_days"]),
        window_pulls=int(settings["window_pulls"]),
        resolve_after_clean_checks=int(settings["resolve_after_clean_checks"]),
        threshold_overrides=dict(settings["threshold_overrides"]),
    )


DISPLAY_QUANTILES = 1001


def display_summary(values: np.ndarray) -> dict[str, Any]:
    """Value quantiles of the reference rows, kept with it so pages never re-read those rows."""
    return {"quantiles": np.quantile(values, np.linspace(0.0, 1.0, DISPLAY_QUANTILES)).tolist()}


def reference_rng(field: str, start_ms: int) -> np.random.Generator:
    """The calibration bootstrap's generator: seeded by field and reference start, so refits agree."""
    return np.random.default_rng([zlib.crc32(field.encode()), start_ms // 1000])


@dataclass(frozen=True)
class FieldRows:
    times: np.ndarray  # epoch ms
    keys: np.ndarray
    values: np.ndarray


class DriftService:
    """Runs detection for every monitored field; one run at a time per process."""

    def __init__(self, monitor: Monitor, max_reference_rows: int = 2_000_000,
                 chunk_rows: int = 200_000) -> None:
        self.monitor = monitor
        self.max_reference_rows = max_reference_rows
        self.chunk_rows = chunk_rows
        self._lock = threading.Lock()
        self._models: dict[tuple[int, str], ReferenceModel] = {}

    # -- data -------------------------------------------------------------------------------
    def _rows(self, field: str, start: int, end: int, limit: int | None = None) -> FieldRows:
        sources = self.monitor.analysis_sources
        with self.monitor.store.read() as conn:
            times, keys, values = Predictions(conn).values_by_pull(field, start, end, sources, limit)
        return FieldRows(times, keys, values)

    # -- references -------------------------------------------------------------------------
    def model(self, reference_id: int, config: DriftConfig) -> ReferenceModel:
        """The parsed model of a stored reference, retargeted to the current settings; cached."""
        key = (reference_id, json.dumps(config.to_dict(), sort_keys=True))
        if key not in self._models:
            with self.monitor.store.read() as conn:
                record = DriftStore(conn).reference(reference_id)
            if record is None:
                raise ValidationError(f"drift reference {reference_id} no longer exists")
            base = ReferenceModel.from_dict(record.model)
            self._models = {k: v for k, v in self._models.items() if k[0] != reference_id}
            self._models[key] = base if base.config == config else retarget(base, config)
        return self._models[key]

    def fit_default(self, field: str, config: DriftConfig, now: datetime
                    ) -> tuple[ReferenceRecord | None, str | None]:
        """Freeze the first rows as the reference once there are enough; else say why not.

        Only the leading span a reference needs is read first (after a year's import the
        rest would be read and dropped); everything up to now only when that is not enough.
        """
        end = to_ms(now) + 1
        first = self._rows(field, 0, end, 1)
        if first.values.size == 0:
            return None, f"no {'/'.join(self.monitor.analysis_sources)} rows for {field} yet"
        lead_ms = int((config.reference_min_days + 1) * 86_400_000)
        rows = self._rows(field, 0, min(end, int(first.times[0]) + lead_ms), self.max_reference_rows)
        pulls = group_pulls(rows.times / 1000.0, rows.values, rows.keys)
        ready = reference_readiness(pulls, config)
        if not ready.ready and int(first.times[0]) + lead_ms < end:
            rows = self._rows(field, 0, end, self.max_reference_rows)
            pulls = group_pulls(rows.times / 1000.0, rows.values, rows.keys)
            ready = reference_readiness(pulls, config)
        if not ready.ready:
            return None, ready.reason
        end_row = int(pulls.offsets[ready.n_pulls])
        return self.store_reference(field, rows.times[:end_row], rows.keys[:end_row],
                                    rows.values[:end_row], config, "system", now,
                                    "first rows (default reference)"), None

    def store_reference(self, field: str, times: np.ndarray, keys: np.ndarray, values: np.ndarray,
                        config: DriftConfig, actor: str, now: datetime, note: str,
                        also: Callable[[Connection, ReferenceRecord], None] | None = None) -> ReferenceRecord:
        """Fit, then store the new active version; ``also`` writes more in the same transaction.

        Detection carries on after the last pull it checked (or the previous reference's
        end): a reference fitted on an older range never replays the pulls since then.
        """
        start, end = int(times.min()), int(times.max())
        started = time.perf_counter()
        model = fit_reference(times / 1000.0, values, config, reference_rng(field, start),
                              pull_ids=keys, field=field)
        fit_ms = (time.perf_counter() - started) * 1000
        with self.monitor.store.transaction() as conn:
            drift = DriftStore(conn)
            progress = drift.checked_through(field)
            record = drift.add_reference(
                field, to_ms(now), actor, start, end, int(values.size),
                ",".join(self.monitor.analysis_sources),
                {**model.to_dict(), "display": display_summary(values)}, note)
            if progress is not None:
                drift.put_state(field, record.id, max(progress, end), initial_state(model).to_dict())
            Metrics(conn).add(to_ms(now), "reference_fit_ms", fit_ms, field)
            if also is not None:
                also(conn, record)
        log.info("froze drift reference v%d for %s", record.version, field,
                 extra={"rows": int(values.size), "fit_ms": round(fit_ms)})
        return record

    # -- the step ---------------------------------------------------------------------------
    def run(self, now: datetime, settings: dict[str, Any], budget: Budget | None = None
            ) -> tuple[list[FieldCheck], Changes]:
        """Check every field up to ``now``, or as much as ``budget`` allows (the rest is deferred).

        Fields furthest behind go first (no reference yet, then the oldest progress), so
        after an import all fields move towards the present together.
        """
        config = drift_config(settings)
        budget = budget if budget is not None else Budget(None)
        checks: list[FieldCheck] = []
        changes = Changes()
        with self._lock:
            for field, progress in self._furthest_behind_first(list(settings["monitored_fields"])):
                if self.monitor.stopping.is_set():
                    break
                if budget.spent():
                    if self._rows(field, (progress or -1) + 1, to_ms(now) + 1, 1).values.size:
                        budget.defer(field, "waiting: this pass's drift budget went to other fields")
                    continue
                started = time.perf_counter()
                field_checks, field_changes = self._run_field(field, config, now, settings, budget)
                checks += field_checks
                changes.merge(field_changes)
                if field_checks:
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    with self.monitor.store.transaction() as conn:
                        Metrics(conn).add(to_ms(now), "drift_check_ms", elapsed_ms, field)
                    _emit_check(field, field_checks, elapsed_ms)
        return checks, changes

    def _furthest_behind_first(self, fields: list[str]) -> list[tuple[str, int | None]]:
        """(field, checked through) with no reference first, then the oldest progress."""
        with self.monitor.store.read() as conn:
            drift = DriftStore(conn)
            progress = [(f, drift.checked_through(f)) for f in fields]
        return sorted(progress, key=lambda fp: -1 if fp[1] is None else fp[1])

    def _skip(self, field: str, now: datetime, reason: str) -> FieldCheck:
        check = FieldCheck.skipped(field, now.timestamp(), reason)
        with self.monitor.store.transaction() as conn:
            DriftStore(conn).add_run(to_ms(now), field, None, "skipped", False, None, reason,
                                     check.to_dict())
        return check

    def _run_field(self, field: str, config: DriftConfig, now: datetime,
                   settings: Mapping[str, Any], budget: Budget) -> tuple[list[FieldCheck], Changes]:
        with self.monitor.store.read() as conn:
            active = DriftStore(conn).active_reference_id(field)
            saved = DriftStore(conn).state(field)
        if active is None:
            try:
                record, reason = self.fit_default(field, config, now)
            except InsufficientReferenceError as exc:
                record, reason = None, exc.reason
            if record is None:
                return [self._skip(field, now, reason or "no reference")], Changes()
            budget.worked = True
            active = (record.id, record.end_at)
            if budget.spent():
                budget.defer(field, f"reference v{record.version} frozen; checking its pulls continues next")
                return [], Changes()
        reference_id, reference_end = active
        model = self.model(reference_id, config)
        state = DetectorState.from_dict(saved[2]) if saved and saved[0] == reference_id else None
        # after both the state and the reference's end (a re-baseline committed while a cycle ran
        # ends later than the state; a state of the active reference is never before its end)
        through = max(saved[1], reference_end) if saved else reference_end
        checks: list[FieldCheck] = []
        changes = Changes()
        end = to_ms(now) + 1
        while True:  # chunk by chunk, so memory stays bounded after a year's import
            rows, complete = self._chunk(field, through + 1, end)
            if rows.values.size == 0:
                break
            pulls = group_pulls(rows.times / 1000.0, rows.values, rows.keys)
            row_times = np.sort(rows.times)  # aligned with pulls.offsets (grouping sorts by time)
            results: list[tuple[FieldCheck, list[Signal]]] = []
            done_through = int(row_times[-1])
            stopped = False
            for j in range(pulls.n_pulls):
                if self.monitor.stopping.is_set() or budget.spent():  # record how far we got
                    done_through = int(row_times[pulls.offsets[j] - 1]) if j else through
                    stopped = True
                    break
                lo, hi = int(pulls.offsets[j]), int(pulls.offsets[j + 1])
                budget.worked = True
                try:
                    state, check = update(model, state, float(pulls.times[j]), pulls.values[lo:hi])
                except ValidationError as exc:
                    log.warning("skipped a pull of %s: %s", field, exc)
                    continue
                results.append((check, self._signals(check)))
            changes.merge(self._commit(field, reference_id, results, state, done_through, config))
            checks += [c for c, _ in results]
            through = done_through
            if stopped:
                if not self.monitor.stopping.is_set():
                    budget.defer(field, f"checked through {from_ms(through).isoformat()}; "
                                        "the later pulls continue next")
                break
            if complete:
                break
        return checks, changes

    def _chunk(self, field: str, start: int, end: int) -> tuple[FieldRows, bool]:
        """Up to ``chunk_rows`` rows from ``start``, cut before the last pull; True when nothing is left.

        The cut is in time, before the first row of the last pull read (rows come in time
        order), so no pull is split and the next chunk starts right after this one.
        A pull bigger than the chunk is read whole (the limit doubles until it fits).
        """
        limit = self.chunk_rows
        while True:
            rows = self._rows(field, start, end, limit)
            if rows.values.size < limit:
                return rows, True
            cut = rows.times[rows.keys == rows.keys[-1]].min()
            keep = int(np.searchsorted(rows.times, cut, side="left"))
            if keep:
                return FieldRows(rows.times[:keep], rows.keys[:keep], rows.values[:keep]), False
            limit *= 2

    def _commit(self, field: str, reference_id: int, results: list[tuple[FieldCheck, list[Signal]]],
                state: DetectorState | None, done_through: int, config: DriftConfig) -> Changes:
        """The checks' runs, their alert changes and the state after them, in one transaction."""
        changes = Changes()
        with self.monitor.store.transaction() as conn:
            drift = DriftStore(conn)
            for check, signals in results:
                at = int(round(check.at * 1000))
                drift.add_run(at, field, reference_id, "ok", check.drifted, check.severity, None,
                              check.to_dict())
                changes.merge(apply_signals(conn, signals, at, config.resolve_after_clean_checks))
            if state is not None:
                drift.put_state(field, reference_id, done_through, state.to_dict())
        return changes

    @staticmethod
    def _signals(check: FieldCheck) -> list[Signal]:
        out = []
        for verdict in check.kinds:
            out.append(Signal(
                drift_fingerprint(check.field, verdict.kind), "drift", verdict.kind, verdict.drifted,
                verdict.severity or "warning",
                f"{KIND_TITLES.get(verdict.kind, verdict.kind)}: {check.field}", check.field,
                {"methods": list(verdict.methods), "at": from_ms(int(check.at * 1000)).isoformat()}))
        return out


def _emit_check(field: str, checks: list[FieldCheck], elapsed_ms: float) -> None:
    """One ``drift_check`` event per field and cycle: the latest verdict and how many pulls."""
    last = checks[-1]
    drifted = [c for c in checks if c.drifted]
    events.emit(events.DRIFT_CHECK, {
        "field": field, "status": last.status, "drifted": bool(drifted),
        "severity": drifted[-1].severity if drifted else None, "reason": last.reason}, {
        "duration_ms": elapsed_ms, "pulls": len(checks), "drifted_pulls": len(drifted)})
