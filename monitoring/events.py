"""One in-process hook for operational events: ``emit(name, properties, measurements)``.

The pipeline, the endpoint source, logins, settings and alerts call ``emit`` with
plain values; subscribers (Application Insights today, perhaps notifications later)
decide what to do with them. Call sites stay one line and know nothing about any
sink, and a failing subscriber can never break the code that emitted: its error is
logged and dropped. Subscribers run in the emitting thread, so they must be quick
(enqueue, never send over the network inline).

Events emitted by the product (properties are str/int/float/bool/None; measurements
are numbers; every event also carries the log context ids: inside a cycle ``cycle_id``
and ``cycle_kind`` -- scheduled, manual, backfill or replay):

- ``pull``: a pull was stored (ingest) -- kind, source, outcome, slot, pull_id,
  http_status, breaker_state, fallback, error | latency_ms, rows_received, rows_stored,
  rows_rejected, attempts
- ``cycle``: a cycle finished -- slot, outcome (the pull's, or "error"), source, errors | duration_ms,
  rows_stored, rows_rejected, checks, alerts_opened, alerts_escalated, alerts_resolved
- ``cycle_step_failed``: a cycle step failed (``error`` is the exception) -- step
  (store|detect|alerts)
- ``drift_check``: one field was checked -- field, status (ok|skipped), drifted,
  severity, reason | duration_ms, pulls, drifted_pulls
- ``alert_opened`` / ``alert_escalated`` / ``alert_resolved``: an episode changed
  (system) -- alert_id, fingerprint, category, kind, field, severity, status, title,
  opened_at, by ("system") | occurrences; an analyst's ``alert_acknowledged`` /
  ``alert_snoozed`` / ``alert_resolved`` carry the same properties with ``by`` = the user
  (comments are not sent: free text)
- ``settings_changed``: actor, keys, changes (JSON of {key: [old, new]}, secret kinds
  shown as "***")
- ``login_failed``: reason (bad_password|unknown_user|locked|disabled), user (known
  users only: an unknown "username" may be a mistyped password)
- ``account_locked``: user, locked_until | failed_attempts
- ``scoring_call``: one call to the scoring endpoint (with its retries) -- purpose
  (pull|probe), method, scheme, target (host[:port]), path (never the query), success,
  result_code (HTTP status, else error type or "no_response"), error_type, deployment |
  duration_ms, attempts, rows; not emitted when nothing was sent (breaker open)
- ``retention``: the daily maintenance ran -- complete, predictions_before,
  metrics_before | duration_ms, batches, deleted_<table> (predictions, rollups,
  rejected_rows, pulls, drift_runs, op_metrics)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitoring.telemetry import current_context
from monitoring.timeutil import from_ms, iso, utcnow

log = logging.getLogger(__name__)

PULL = "pull"
CYCLE = "cycle"
CYCLE_STEP_FAILED = "cycle_step_failed"
DRIFT_CHECK = "drift_check"
ALERT_OPENED = "alert_opened"
ALERT_ESCALATED = "alert_escalated"
ALERT_RESOLVED = "alert_resolved"
SETTINGS_CHANGED = "settings_changed"
LOGIN_FAILED = "login_failed"
ACCOUNT_LOCKED = "account_locked"
SCORING_CALL = "scoring_call"
RETENTION = "retention"


@dataclass(frozen=True)
class Event:
    """What happened, with low-cardinality properties and numeric measurements."""

    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    measurements: Mapping[str, float] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)
    error: BaseException | None = None


Subscriber = Callable[[Event], None]
_subscribers: tuple[Subscriber, ...] = ()
_lock = threading.Lock()


def subscribe(subscriber: Subscriber) -> Callable[[], None]:
    """Add a subscriber; returns the function that removes it again."""
    global _subscribers
    with _lock:
        _subscribers = (*_subscribers, subscriber)

    def unsubscribe() -> None:
        global _subscribers
        with _lock:
            _subscribers = tuple(s for s in _subscribers if s is not subscriber)

    return unsubscribe


def subscribers() -> tuple[Subscriber, ...]:
    return _subscribers


def emit(name: str, properties: Mapping[str, Any] | None = None,
         measurements: Mapping[str, float | int | None] | None = None, *,
         error: BaseException | None = None) -> None:
    """Hand an event to every subscriber; never raises, cheap when nobody listens."""
    targets = _subscribers
    if not targets:
        return
    props = {**current_context(), **(properties or {})}
    numbers = {k: float(v) for k, v in (measurements or {}).items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    event = Event(name, props, numbers, utcnow(), error)
    for subscriber in targets:
        try:
            subscriber(event)
        except Exception as exc:  # noqa: BLE001 - an observer must never break the observed
            log.warning("event subscriber %s failed on %s: %s", getattr(subscriber, "__name__",
                        type(subscriber).__name__), name, type(exc).__name__)


def alert_properties(alert: Any, by: str = "system") -> dict[str, Any]:
    """The properties of an ``alert_*`` event, from a stored ``Alert``."""
    return {"alert_id": alert.id, "fingerprint": alert.fingerprint, "category": alert.category,
            "kind": alert.kind, "field": alert.field, "severity": alert.severity,
            "status": alert.status, "title": alert.title,
            "opened_at": iso(from_ms(alert.opened_at)), "by": by}


def emit_alert_changes(changes: Any) -> None:
    """One event per alert a check opened, escalated or resolved (after they committed)."""
    for name, alerts in ((ALERT_OPENED, changes.opened), (ALERT_ESCALATED, changes.escalated),
                         (ALERT_RESOLVED, changes.resolved)):
        for alert in alerts:
            emit(name, alert_properties(alert), {"occurrences": alert.occurrences})
