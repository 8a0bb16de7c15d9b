"""What the alerts page shows: filtered alert lists, one alert's detail, and counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitoring.context import Monitor
from monitoring.store import Alert, AlertEvent, Alerts, Predictions
from monitoring.store.alerts import SEVERITIES
from monitoring.timeutil import from_ms, to_ms
from monitoring.views.common import TimeRange, timed

VIEWS = {"open": ("open",), "acknowledged": ("acknowledged",), "resolved": ("resolved",)}


def alert_row(alert: Alert, now_ms: int) -> dict[str, Any]:
    """One table row: the columns an analyst scans, in display order."""
    snoozed = alert.snoozed_until is not None and alert.snoozed_until > now_ms
    return {
        "id": alert.id,
        "severity": alert.severity,
        "status": alert.status + (" (snoozed)" if snoozed else ""),
        "title": alert.title,
        "field": alert.field or "—",
        "kind": alert.kind,
        "opened": from_ms(alert.opened_at),
        "last seen": from_ms(alert.last_seen_at),
        "checks": alert.occurrences,
        "methods": ", ".join(alert.details.get("methods", [])),
    }


def list_alerts(monitor: Monitor, view: str, severities: tuple[str, ...] = SEVERITIES,
                field: str | None = None, include_snoozed: bool = True,
                limit: int = 500) -> list[dict[str, Any]]:
    """Alerts of one view (open, acknowledged, resolved), newest first, filtered in SQL."""
    now = to_ms(monitor.clock())
    with timed("alerts.list"), monitor.store.read() as conn:
        alerts = Alerts(conn).search(VIEWS[view], severities or SEVERITIES, field, limit)
    if not include_snoozed:
        alerts = [a for a in alerts if not (a.snoozed_until and a.snoozed_until > now)]
    return [alert_row(a, now) for a in alerts]


def counts(monitor: Monitor) -> dict[str, int]:
    with monitor.store.read() as conn:
        found = Alerts(conn).counts()
    return {view: found.get(view, 0) for view in VIEWS}


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    events: list[AlertEvent]
    series: list[tuple[int, int, float, float, float, float]]  # bucket, n, mean, sd, lo, hi
    window: TimeRange | None


def detail(monitor: Monitor, alert_id: int, sources: tuple[str, ...]) -> AlertDetail | None:
    """The alert, its event history and, for a drift alert, its field around the episode."""
    with timed("alerts.detail"), monitor.store.read() as conn:
        repo = Alerts(conn)
        alert = repo.get(alert_id)
        if alert is None:
            return None
        events = repo.events(alert_id)
        if alert.field is None:
            return AlertDetail(alert, events, [], None)
        opened = from_ms(alert.opened_at)
        end = from_ms(alert.resolved_at or alert.last_seen_at) + timedelta(days=2)
        window = TimeRange(opened - timedelta(days=7), min(end, max(monitor.clock(), opened))
                           + timedelta(hours=1))
        series = Predictions(conn).series(alert.field, window.start_ms, window.end_ms, sources,
                                          window.bucket_ms())
    return AlertDetail(alert, events, series, window)


def event_rows(events: list[AlertEvent]) -> list[dict[str, Any]]:
    return [{"when": from_ms(e.at), "who": e.actor, "action": e.action.replace("_", " "),
             "comment": e.comment or "", "details": _details_text(e.details)} for e in events]


def _details_text(details: dict | None) -> str:
    if not details:
        return ""
    parts = []
    for key, value in details.items():
        if key == "until" and isinstance(value, int | float):
            value = from_ms(value).strftime("%Y-%m-%d %H:%M UTC")
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def opened_marker(alert: Alert) -> datetime:
    return from_ms(alert.opened_at)
