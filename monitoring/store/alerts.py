"""Alert episodes and their event history (the lifecycle rules live in monitoring.alerts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitoring.store.connection import Connection

SEVERITIES = ("info", "warning", "critical")
STATUSES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class Alert:
    id: int
    fingerprint: str
    category: str
    field: str | None
    kind: str
    severity: str
    status: str
    title: str
    opened_at: int
    last_seen_at: int
    resolved_at: int | None
    occurrences: int
    clean_checks: int
    snoozed_until: int | None
    details: dict


@dataclass(frozen=True)
class AlertEvent:
    id: int
    alert_id: int
    at: int
    actor: str
    action: str
    comment: str | None
    details: dict | None


_COLS = ("id, fingerprint, category, field, kind, severity, status, title, opened_at, last_seen_at, "
         "resolved_at, occurrences, clean_checks, snoozed_until, details")


def _alert(row: tuple) -> Alert:
    values = list(row)
    values[-1] = json.loads(values[-1])
    return Alert(*values)


class Alerts:
    """Repository for ``alerts`` and ``alert_events``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_episode(self, fingerprint: str) -> Alert | None:
        """The one unresolved alert for a fingerprint, if any (a unique index enforces one)."""
        row = self.conn.execute(f"SELECT {_COLS} FROM alerts WHERE fingerprint = ? "  # noqa: S608
                                "AND status != 'resolved'", (fingerprint,)).fetchone()
        return _alert(row) if row else None

    def unresolved(self) -> list[Alert]:
        return [_alert(r) for r in self.conn.execute(
            f"SELECT {_COLS} FROM alerts WHERE status != 'resolved' ORDER BY opened_at")]  # noqa: S608

    def get(self, alert_id: int) -> Alert | None:
        row = self.conn.execute(f"SELECT {_COLS} FROM alerts WHERE id = ?",  # noqa: S608
                                (alert_id,)).fetchone()
        return _alert(row) if row else None

    def create(self, fingerprint: str, category: str, field: str | None, kind: str, severity: str,
               title: str, at: int, details: dict[str, Any]) -> int:
        cur = self.conn.execute(
            "INSERT INTO alerts (fingerprint, category, field, kind, severity, status, title, "
            "opened_at, last_seen_at, details) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
            (fingerprint, category, field, kind, severity, title, at, at, json.dumps(details)))
        return int(cur.lastrowid)

    def touch(self, alert_id: int, at: int, severity: str, details: dict[str, Any]) -> None:
        """A repeat inside the episode: later last_seen, one more occurrence, clean run reset."""
        self.conn.execute(
            "UPDATE alerts SET last_seen_at = max(last_seen_at, ?), occurrences = occurrences + 1, "
            "clean_checks = 0, severity = ?, details = ? WHERE id = ?",
            (at, severity, json.dumps(details), alert_id))

    def set_clean(self, alert_id: int, clean_checks: int) -> None:
        self.conn.execute("UPDATE alerts SET clean_checks = ? WHERE id = ?", (clean_checks, alert_id))

    def set_status(self, alert_id: int, status: str, at: int | None = None) -> None:
        resolved_at = at if status == "resolved" else None
        self.conn.execute("UPDATE alerts SET status = ?, resolved_at = ? WHERE id = ?",
                          (status, resolved_at, alert_id))

    def snooze(self, alert_id: int, until: int | None) -> None:
        self.conn.execute("UPDATE alerts SET snoozed_until = ? WHERE id = ?", (until, alert_id))

    def add_event(self, alert_id: int, at: int, actor: str, action: str,
                  comment: str | None = None, details: dict | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO alert_events (alert_id, at, actor, action, comment, details) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (alert_id, at, actor, action, comment, json.dumps(details) if details else None))
        return int(cur.lastrowid)

    def events(self, alert_id: int) -> list[AlertEvent]:
        rows = self.conn.execute(
            "SELECT id, alert_id, at, actor, action, comment, details FROM alert_events "
            "WHERE alert_id = ? ORDER BY at, id", (alert_id,)).fetchall()
        return [AlertEvent(*r[:-1], json.loads(r[-1]) if r[-1] else None) for r in rows]

    def search(self, statuses: tuple[str, ...], severities: tuple[str, ...] = SEVERITIES,
               field: str | None = None, limit: int = 500) -> list[Alert]:
        """Filter for the alerts page, newest first, filtered in SQL."""
        s_marks = ",".join("?" * len(statuses)) or "NULL"
        v_marks = ",".join("?" * len(severities)) or "NULL"
        sql = (f"SELECT {_COLS} FROM alerts WHERE status IN ({s_marks}) "  # noqa: S608
               f"AND severity IN ({v_marks})")
        params: list[Any] = [*statuses, *severities]
        if field is not None:
            sql += " AND field = ?"
            params.append(field)
        sql += " ORDER BY opened_at DESC, id DESC LIMIT ?"
        params.append(limit)
        return [_alert(r) for r in self.conn.execute(sql, params)]

    def counts(self) -> dict[str, int]:
        return {s: int(n) for s, n in self.conn.execute(
            "SELECT status, count(*) FROM alerts GROUP BY status")}

    def opened_between(self, start: int, end: int) -> list[Alert]:
        return [_alert(r) for r in self.conn.execute(
            f"SELECT {_COLS} FROM alerts WHERE opened_at >= ? AND opened_at < ? "  # noqa: S608
            "ORDER BY opened_at, id", (start, end))]
