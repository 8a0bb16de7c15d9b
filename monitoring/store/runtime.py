"""Cross-process runtime state: the scheduler lease and small status values.

APScheduler's job stores cannot be shared between processes, so two App Service
instances coordinate through a lease row here: whoever claims a slot first pulls it.
"""

from __future__ import annotations

import json
from typing import Any

from monitoring.store.connection import Connection

DONE = 2**62  # expires_at of a finished slot: nobody can claim it again


class RuntimeState:
    """Repository for ``runtime_state`` (JSON by key) and ``scheduler_lease``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> Any | None:
        row = self.conn.execute("SELECT value FROM runtime_state WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any, at: int) -> None:
        self.conn.execute(
            "INSERT INTO runtime_state (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, json.dumps(value), at))

    def claim_slot(self, name: str, holder: str, slot_at: int, now: int, ttl_ms: int) -> bool:
        """Claim ``slot_at`` for ``holder`` unless it is taken (an expired, unfinished claim is free)."""
        self.conn.execute(
            "INSERT OR IGNORE INTO scheduler_lease (name, holder, slot_at, acquired_at, expires_at) "
            "VALUES (?, '', -1, 0, 0)", (name,))
        cur = self.conn.execute(
            "UPDATE scheduler_lease SET holder = ?, slot_at = ?, acquired_at = ?, expires_at = ? "
            "WHERE name = ? AND (slot_at < ? OR (slot_at = ? AND expires_at < ?))",
            (holder, slot_at, now, now + ttl_ms, name, slot_at, slot_at, now))
        return cur.rowcount == 1

    def finish_slot(self, name: str, holder: str, slot_at: int) -> None:
        self.conn.execute(
            "UPDATE scheduler_lease SET expires_at = ? WHERE name = ? AND holder = ? AND slot_at = ?",
            (DONE, name, holder, slot_at))

    def lease(self, name: str) -> dict | None:
        row = self.conn.execute(
            "SELECT holder, slot_at, acquired_at, expires_at FROM scheduler_lease WHERE name = ?",
            (name,)).fetchone()
        if not row:
            return None
        return dict(zip(("holder", "slot_at", "acquired_at", "expires_at"), row, strict=True))
