"""The notification outbox: one row per (alert event, channel), written with the alert change.

Rows are added inside the transaction that opens, escalates or resolves an alert, so
a notification exists exactly when its alert change committed. Delivery happens
later: a worker *claims* a row (one more attempt, ``next_attempt_at`` pushed past the
claim lease) in its own write transaction before sending, so two threads or processes
never send the same row at the same time. Per channel, rows go out in id order: only
the oldest pending row of a channel can be claimed, so "resolved" never overtakes
"opened" and a channel that is down costs one failed attempt per pass, not one per row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitoring.store.connection import Connection

EVENTS = ("opened", "escalated", "resolved")
CHANNELS = ("webhook", "slack", "teams")
OUTBOX_STATUSES = ("pending", "delivered", "failed")

_COLS = ("id, alert_id, event, event_at, channel, payload, created_at, attempts, next_attempt_at, "
         "delivered_at, last_status, last_error, status")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    alert_id: int
    event: str
    event_at: int
    channel: str
    payload: dict[str, Any]
    created_at: int
    attempts: int
    next_attempt_at: int
    delivered_at: int | None
    last_status: int | None
    last_error: str | None
    status: str


def _row(values: tuple) -> OutboxRow:
    items = list(values)
    items[5] = json.loads(items[5])
    return OutboxRow(*items)


class Outbox:
    """Repository for ``notification_outbox``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, alert_id: int, event: str, event_at: int, channel: str,
            payload: dict[str, Any], created_at: int) -> int | None:
        """Enqueue one notification; None when this alert event was already enqueued for the channel.

        ``created_at`` is the alert change's own time (the check's clock), and the row is
        due from then on.
        """
        cur = self.conn.execute(
            "INSERT INTO notification_outbox (alert_id, event, event_at, channel, payload, "
            "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (alert_id, event, channel, event_at) DO NOTHING",  # only the duplicate
            (alert_id, event, event_at, channel, json.dumps(payload, sort_keys=True), created_at,
             created_at))
        return int(cur.lastrowid) if cur.rowcount == 1 else None

    def notified_channels(self, alert_id: int) -> set[str]:
        """Channels that were told this alert opened or escalated (whatever became of the row)."""
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT channel FROM notification_outbox WHERE alert_id = ? "
            "AND event IN ('opened', 'escalated')", (alert_id,))}

    def claim_next(self, now: int, lease_ms: int) -> OutboxRow | None:
        """Take the next due row (oldest pending row of its channel); call inside a transaction.

        The claim counts an attempt and hides the row for ``lease_ms``: if the sender dies
        before recording the outcome, the row becomes due again when the lease ends.
        """
        row = self.conn.execute(
            f"SELECT {_COLS} FROM notification_outbox o WHERE status = 'pending' "  # noqa: S608
            "AND next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM notification_outbox e "
            "WHERE e.status = 'pending' AND e.channel = o.channel AND e.id < o.id) "
            "ORDER BY id LIMIT 1", (now,)).fetchone()
        if row is None:
            return None
        claimed = self.conn.execute(
            "UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = ? "
            "WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?",
            (now + lease_ms, row[0], now)).rowcount
        return self.get(row[0]) if claimed == 1 else None

    def mark_delivered(self, row_id: int, at: int, status: int) -> None:
        self.conn.execute(
            "UPDATE notification_outbox SET status = 'delivered', delivered_at = ?, last_status = ?, "
            "last_error = NULL WHERE id = ? AND status = 'pending'", (at, status, row_id))

    def retry_at(self, row_id: int, next_at: int, status: int | None, error: str) -> None:
        self.conn.execute(
            "UPDATE notification_outbox SET next_attempt_at = ?, last_status = ?, last_error = ? "
            "WHERE id = ? AND status = 'pending'", (next_at, status, error, row_id))

    def mark_failed(self, row_id: int, status: int | None, error: str) -> None:
        self.conn.execute(
            "UPDATE notification_outbox SET status = 'failed', last_status = ?, last_error = ? "
            "WHERE id = ? AND status = 'pending'", (status, error, row_id))

    def requeue_failed(self, now: int, channel: str | None = None) -> int:
        """Give failed rows (of one channel, or all) a fresh set of attempts, e.g. after a URL fix."""
        sql = ("UPDATE notification_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
               "last_error = NULL WHERE status = 'failed'")
        params: list[Any] = [now]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        return self.conn.execute(sql, params).rowcount

    def get(self, row_id: int) -> OutboxRow | None:
        row = self.conn.execute(f"SELECT {_COLS} FROM notification_outbox WHERE id = ?",  # noqa: S608
                                (row_id,)).fetchone()
        return _row(row) if row else None

    def for_alert(self, alert_id: int) -> list[OutboxRow]:
        return [_row(r) for r in self.conn.execute(
            f"SELECT {_COLS} FROM notification_outbox WHERE alert_id = ? ORDER BY id",  # noqa: S608
            (alert_id,))]

    def recent(self, limit: int = 100, status: str | None = None) -> list[OutboxRow]:
        """Newest first, for the settings page and the runbook's 'what was sent' question."""
        sql = f"SELECT {_COLS} FROM notification_outbox"  # noqa: S608
        params: list[Any] = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [_row(r) for r in self.conn.execute(sql, params)]

    def counts(self) -> dict[str, int]:
        """Rows per status (every status present, zero when none)."""
        found = {s: int(n) for s, n in self.conn.execute(
            "SELECT status, count(*) FROM notification_outbox GROUP BY status")}
        return {s: found.get(s, 0) for s in OUTBOX_STATUSES}

    def delete_finished_before(self, cutoff: int) -> int:
        """Retention: delivered and failed rows created before ``cutoff``."""
        return self.conn.execute(
            "DELETE FROM notification_outbox WHERE status != 'pending' AND created_at < ?",
            (cutoff,)).rowcount
