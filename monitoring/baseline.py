"""Admin re-baseline: freeze a new drift reference from a chosen date range, audited.

The default reference is a field's first rows; when the model or its inputs changed
on purpose, an admin points the reference at a range that shows the new normal.

What happens to detection afterwards (decided here, relied on by the pages):

* The detector continues from where it had got to. Pulls it already checked are
  never checked again, whatever the range: a range from months ago does not replay
  months of history into alerts. Only pulls after both the last pull checked and the
  end of the new range are checked, against the new version. Without any earlier
  reference, checks start after the new range, as for the default reference.
* The new version starts with a fresh detector state: CUSUMs at zero, and the
  distribution window and the trend series refill (their methods show "window
  filling" for the first pulls), because statistics accumulated against the old
  reference mean nothing against the new one.
* Open drift alerts of the field are left open and resolve through their normal
  hysteresis (K clean checks against the new reference). Closing them here would
  erase an episode that was real when it was raised; if the new normal is clean,
  they close by themselves within K pulls, and analysts can still resolve them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from monitoring.actors import Actor, require_admin
from monitoring.context import Monitor
from monitoring.detection import DriftService, drift_config
from monitoring.drift import InsufficientReferenceError, group_pulls, reference_readiness
from monitoring.errors import ValidationError
from monitoring.store import Audit, Connection, DriftStore, Predictions, ReferenceRecord
from monitoring.timeutil import from_ms, iso, to_ms

ACTION = "drift.rebaseline"
MAX_NOTE = 500
DAY_MS = 86_400_000


@dataclass(frozen=True)
class _Range:
    field: str
    start: datetime
    end: datetime

    @property
    def text(self) -> str:
        return f"between {iso(self.start)} and {iso(self.end)}"


def _describe(record: ReferenceRecord | None) -> dict[str, Any] | None:
    """What the audit log keeps of a version: enough to say which data it was."""
    if record is None:
        return None
    return {"version": record.version, "start": iso(from_ms(record.start_at)),
            "end": iso(from_ms(record.end_at)), "rows": record.n_rows, "sources": record.sources}


def _check_request(settings: Mapping[str, Any], field: str, start: datetime, end: datetime,
                   note: str | None) -> tuple[_Range, str | None]:
    start_ms, end_ms = to_ms(start), to_ms(end)  # refuses naive datetimes, with what to do
    if start_ms >= end_ms:
        raise ValidationError(f"the range starts ({iso(start)}) at or after it ends ({iso(end)}); "
                              "give a start before the end")
    fields = list(settings["monitored_fields"])
    if field not in fields:
        raise ValidationError(f"'{field}' is not a monitored field ({', '.join(fields) or 'none'}); "
                              "add it on the settings page first")
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise ValidationError(f"the note is longer than {MAX_NOTE} characters")
    return _Range(field, start, end), note


def _rows(monitor: Monitor, span: _Range, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with monitor.store.read() as conn:
        return Predictions(conn).values_by_pull(span.field, to_ms(span.start), to_ms(span.end),
                                                monitor.analysis_sources, limit + 1)


def rebaseline(monitor: Monitor, actor: Actor, field: str, start: datetime, end: datetime,
               note: str | None = None) -> ReferenceRecord:
    """Fit and store a new reference version of ``field`` on its rows in [start, end); admin only.

    The rows are those the detector analyses (``monitor.analysis_sources``); the range
    must hold at least ``reference_min_rows`` rows over ``reference_min_days`` days
    (the drift settings). The new version, the audit entry (who, when, old and new
    version and range) and the detector's continuation point commit together.
    """
    require_admin(actor, "re-baseline drift references")
    settings = monitor.settings.effective()
    span, note = _check_request(settings, field, start, end, note)
    config = drift_config(settings)
    service = DriftService(monitor)
    times, keys, values = _rows(monitor, span, service.max_reference_rows)
    sources = "/".join(monitor.analysis_sources)
    if values.size == 0:
        raise ValidationError(f"there are no {sources} rows of {field} {span.text}; "
                              "choose a range with stored predictions")
    if values.size > service.max_reference_rows:
        raise ValidationError(f"more than {service.max_reference_rows:,} rows of {field} {span.text}; "
                              "a reference holds at most that many: narrow the range")
    pulls = group_pulls(times / 1000.0, values, keys)
    ready = reference_readiness(pulls, config)
    if not ready.ready:
        days = (int(times.max()) - int(times.min())) / DAY_MS
        raise ValidationError(
            f"only {values.size} rows of {field} over {days:.1f} days {span.text}; the reference needs "
            f"at least {config.reference_min_rows} rows over {config.reference_min_days:g} days: "
            "widen the range")
    now = monitor.clock()

    def audit(conn: Connection, record: ReferenceRecord) -> None:
        """Inside the transaction that stored ``record``, so old and new are exactly what changed."""
        older = [r for r in DriftStore(conn).references(field) if r.version < record.version]
        old = _describe(older[0]) if older else None
        new = {**(_describe(record) or {}), "requested": [iso(span.start), iso(span.end)], "note": note}
        Audit(conn).add(to_ms(now), actor.username, ACTION, field, old, new)

    try:
        return service.store_reference(field, times, keys, values, config, actor.username, now,
                                       note or f"re-baseline {span.text}", also=audit)
    except InsufficientReferenceError as exc:
        raise ValidationError(f"cannot re-baseline {field} on the rows {span.text}: {exc.reason}; "
                              "choose another range") from exc


def references(monitor: Monitor, field: str) -> list[ReferenceRecord]:
    """Every reference version of ``field``, newest first (the active one has status 'active')."""
    with monitor.store.read() as conn:
        return DriftStore(conn).references(field)
