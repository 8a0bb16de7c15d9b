"""Fetch -> validate -> store, for one slot: the first half of a cycle.

The pull record, its valid rows and its quarantined rows commit in one transaction,
so a crash never leaves half a pull; row keys (time, source, ordinal) make a repeated
pull store nothing twice. When the endpoint fails and fallback is on, the slot gets
simulated rows labelled ``mock`` and the pull says ``fallback`` with the error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitoring import events
from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.sources import Fetched, MockSource, Source
from monitoring.store import Metrics, Predictions, PullRecord, Pulls, Rejected, Rejection
from monitoring.telemetry import REDACTOR
from monitoring.timeutil import iso, to_ms
from monitoring.validation import RowSchema, validate_items

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullResult:
    pull_id: int
    outcome: str
    source: str
    rows_received: int
    rows_stored: int
    rows_rejected: int
    error: str | None


def row_schema(settings: Mapping[str, Any]) -> RowSchema:
    return RowSchema.for_fields(settings["monitored_fields"], settings["field_ranges"])


def fetch_with_fallback(primary: Source, slot: datetime, fallback: bool,
                        mock: MockSource | None = None) -> Fetched:
    """Ask the primary source; on failure, simulated rows when fallback is on."""
    fetched = primary.fetch(slot)
    if fetched.ok or not fallback or primary.name == "mock":
        return fetched
    simulated = (mock or MockSource()).fetch(slot)
    return Fetched("mock", simulated.items, fetched.rejected, ok=False,
                   latency_ms=fetched.latency_ms, attempts=fetched.attempts,
                   http_status=fetched.http_status, error=fetched.error,
                   breaker_state=fetched.breaker_state, extra={"fallback": True})


def _outcome(fetched: Fetched, stored_or_valid: int, rejected: int) -> str:
    if fetched.extra.get("fallback"):
        return "fallback"
    if not fetched.ok:
        return "failed"
    if rejected and stored_or_valid:
        return "partial"
    if rejected and not stored_or_valid:
        return "failed"
    return "ok"


def store_pull(monitor: Monitor, fetched: Fetched, slot: datetime, started: datetime,
               finished: datetime, kind: str, settings: Mapping[str, Any],
               cycle_id: str | None = None) -> PullResult:
    """Validate a fetch and commit the pull, its rows and its rejections together."""
    slot_label = iso(slot)
    try:
        checked = validate_items(list(fetched.items), row_schema(settings), slot,
                                 lambda i: f"{slot_label}#{i}")
    except ValidationError as exc:
        checked = None
        whole_reply = Rejection(f"{slot_label}#reply", str(exc), f"{len(fetched.items)} rows")
    rejections = list(checked.rejected) if checked else [whole_reply]
    rejections += [Rejection(f"{slot_label}#unparsed{i}", reason, raw)
                   for i, (raw, reason) in enumerate(fetched.rejected)]
    valid = checked.valid if checked else []
    outcome = _outcome(fetched, len(valid), len(rejections))
    error = REDACTOR.text(fetched.error)[:2000] if fetched.error else None
    if outcome == "ok" and not fetched.items:
        outcome, error = "failed", "the reply held no rows; check the request body template"
    if outcome in ("partial", "failed") and not error and rejections:
        error = f"{len(rejections)} row(s) quarantined: {rejections[0].reason}"[:2000]
    now_ms = to_ms(finished)
    with monitor.store.transaction() as conn:
        pull_id = Pulls(conn).add(PullRecord(
            slot_at=to_ms(slot), started_at=to_ms(started), finished_at=now_ms, kind=kind,
            source=fetched.source, outcome=outcome, rows_received=len(fetched.items),
            latency_ms=fetched.latency_ms, attempts=fetched.attempts,
            http_status=fetched.http_status, error=error, breaker_state=fetched.breaker_state,
            cycle_id=cycle_id))
        stored = Predictions(conn).insert(pull_id, fetched.source, valid)
        quarantined = Rejected(conn).add(pull_id, fetched.source, now_ms, rejections)
        Pulls(conn).set_counts(pull_id, stored, quarantined)
        samples = [(now_ms, "pull_rows_stored", float(stored), fetched.source),
                   (now_ms, "pull_rows_rejected", float(quarantined), fetched.source)]
        if fetched.latency_ms is not None and fetched.source != "import":
            samples.append((now_ms, "pull_latency_ms", float(fetched.latency_ms), outcome))
        Metrics(conn).add_many(samples)
    if outcome in ("failed", "fallback"):
        log.warning("pull %s for slot %s: %s", outcome, slot_label, error,
                    extra={"attempts": fetched.attempts, "status": fetched.http_status})
    else:
        level = logging.DEBUG if kind in ("backfill", "replay") else logging.INFO
        log.log(level, "pull %s for slot %s", outcome, slot_label,
                extra={"rows_stored": stored, "rows_rejected": quarantined, "source": fetched.source})
    events.emit(events.PULL, {
        "kind": kind, "source": fetched.source, "outcome": outcome, "slot": slot_label,
        "pull_id": pull_id, "http_status": fetched.http_status, "breaker_state": fetched.breaker_state,
        "fallback": bool(fetched.extra.get("fallback")), "error": error and error[:500]}, {
        "latency_ms": fetched.latency_ms if fetched.source != "import" else None,
        "rows_received": len(fetched.items), "rows_stored": stored, "rows_rejected": quarantined,
        "attempts": fetched.attempts})
    return PullResult(pull_id, outcome, fetched.source, len(fetched.items), stored, quarantined, error)
