"""Detector verdicts -> alert episodes, and the analyst lifecycle on them.

One fingerprint (field + kind, or an operational kind) has at most one unresolved
alert: repeats while it is open update ``last_seen_at`` and the count instead of
opening new alerts, and the episode resolves itself after K clean checks in a row
(hysteresis), so a flapping statistic does not page anyone twice. Acknowledge,
resolve and snooze are recorded as events with who, when and a comment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import datetime, timedelta
from typing import Any

from monitoring import events
from monitoring.actors import Actor, require_user
from monitoring.drift.episodes import Episode, step
from monitoring.errors import ValidationError
from monitoring.notify.policy import enqueue_changes
from monitoring.store import Alert, AlertEvent, Alerts, Connection, Store
from monitoring.timeutil import to_ms, utcnow

OPS_KINDS = ("endpoint_failing", "breaker_open", "scheduler_stale")
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Signal:
    """One evaluated condition in a check: firing or clean."""

    fingerprint: str
    category: str
    kind: str
    firing: bool
    severity: str = "warning"
    title: str = ""
    field: str | None = None
    details: dict[str, Any] = _field(default_factory=dict)


def drift_fingerprint(field_name: str, kind: str) -> str:
    return f"drift:{field_name}:{kind}"


def ops_fingerprint(kind: str) -> str:
    return f"ops:{kind}"


@dataclass
class Changes:
    """What a check did to alerts (for notifications, telemetry and replay output)."""

    opened: list[Alert] = _field(default_factory=list)
    escalated: list[Alert] = _field(default_factory=list)
    resolved: list[Alert] = _field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.opened or self.escalated or self.resolved)

    def merge(self, other: Changes) -> None:
        """Add ``other``'s changes to these (a cycle's, a field's or a pass's total)."""
        self.opened += other.opened
        self.escalated += other.escalated
        self.resolved += other.resolved


def _episode(alert: Alert) -> Episode:
    return Episode(alert.field or "", alert.kind, alert.opened_at, alert.severity, alert.last_seen_at,
                   tuple(alert.details.get("methods", ())), alert.clean_checks, alert.occurrences)


def apply_signals(conn: Connection, signals: Iterable[Signal], at: int,
                  resolve_after: int) -> Changes:
    """Open, update or auto-resolve episodes inside the caller's transaction.

    The decision is ``monitoring.drift.episodes.step``, the same state machine the
    detector's own tests and replays use; this function only persists its outcome.
    Notifications for the changes go into the outbox on the same connection, so they
    commit (or roll back) with the alerts themselves.
    """
    repo = Alerts(conn)
    changes = Changes()
    for signal in signals:
        current = repo.open_episode(signal.fingerprint)
        methods = tuple(signal.details.get("methods", ()))
        episode, event = step(_episode(current) if current else None, signal.field or "", signal.kind,
                              signal.firing, at, signal.severity, methods, resolve_after)
        if current is None:
            if event is not None and event.action == "opened":
                alert_id = repo.create(signal.fingerprint, signal.category, signal.field, signal.kind,
                                       episode.severity, signal.title, at,
                                       {**signal.details, "methods": list(episode.methods)})
                repo.add_event(alert_id, at, "system", "opened", details={"severity": episode.severity})
                changes.opened.append(_must(repo.get(alert_id)))
            continue
        if event is None:
            repo.set_clean(current.id, episode.clean_streak)
        elif event.action in ("updated", "escalated"):
            repo.touch(current.id, at, episode.severity,
                       {**current.details, **signal.details, "methods": list(episode.methods)})
            if event.action == "escalated":
                repo.add_event(current.id, at, "system", "escalated",
                               details={"from": current.severity, "to": episode.severity})
                changes.escalated.append(_must(repo.get(current.id)))
        elif event.action == "resolved":
            repo.set_clean(current.id, event.episode.clean_streak)
            repo.set_status(current.id, "resolved", at)
            repo.add_event(current.id, at, "system", "auto_resolved",
                           details={"clean_checks": event.episode.clean_streak})
            changes.resolved.append(_must(repo.get(current.id)))
    enqueue_changes(conn, changes, at)
    return changes


def _must(alert: Alert | None) -> Alert:
    assert alert is not None
    return alert


class AlertService:
    """The analyst-facing lifecycle: acknowledge, resolve, snooze, each audited as an event."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def _act(self, actor: Actor, alert_id: int, action: str, comment: str | None,
             apply: Callable[[Alerts, Alert, int], None], details: dict | None = None) -> Alert:
        require_user(actor, f"{action} alerts")
        comment = (comment or "").strip() or None
        if comment and len(comment) > MAX_COMMENT:
            raise ValidationError(f"the comment is longer than {MAX_COMMENT} characters")
        now = to_ms(self.clock())
        with self.store.transaction() as conn:
            repo = Alerts(conn)
            alert = repo.get(alert_id)
            if alert is None:
                raise ValidationError(f"there is no alert {alert_id}")
            if alert.status == "resolved":
                raise ValidationError(f"alert {alert_id} is already resolved")
            apply(repo, alert, now)
            repo.add_event(alert_id, now, actor.username, action, comment, details)
            updated = _must(repo.get(alert_id))
        events.emit(f"alert_{action}", events.alert_properties(updated, actor.username))
        return updated

    def acknowledge(self, actor: Actor, alert_id: int, comment: str | None = None) -> Alert:
        return self._act(actor, alert_id, "acknowledged", comment,
                         lambda repo, alert, now: repo.set_status(alert.id, "acknowledged"))

    def resolve(self, actor: Actor, alert_id: int, comment: str | None = None) -> Alert:
        return self._act(actor, alert_id, "resolved", comment,
                         lambda repo, alert, now: repo.set_status(alert.id, "resolved", now))

    def snooze(self, actor: Actor, alert_id: int, hours: float, comment: str | None = None) -> Alert:
        if not 0 < hours <= 24 * 30:
            raise ValidationError("snooze for between a few minutes and 30 days")
        until = to_ms(self.clock() + timedelta(hours=hours))
        return self._act(actor, alert_id, "snoozed", comment,
                         lambda repo, alert, now: repo.snooze(alert.id, until),
                         {"until": until, "hours": hours})

    def events(self, alert_id: int) -> list[AlertEvent]:
        with self.store.read() as conn:
            return Alerts(conn).events(alert_id)
