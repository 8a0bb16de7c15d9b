"""Runtime settings (JSON values by key) and the audit log of every change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitoring.store.connection import Connection


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    target: str
    old_value: str | None
    new_value: str | None


class Settings:
    """Repository for ``settings``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM settings")}

    def get(self, key: str) -> Any | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any, at: int, actor: str) -> None:
        self.conn.execute(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (key, json.dumps(value, sort_keys=True), at, actor))

    def delete(self, key: str) -> None:
        self.conn.execute("DELETE FROM settings WHERE key = ?", (key,))


class Audit:
    """Repository for ``audit_log``: who changed what, when, from what, to what."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, at: int, actor: str, action: str, target: str,
            old_value: Any = None, new_value: Any = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, target, old_value, new_value) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (at, actor, action, target,
             None if old_value is None else json.dumps(old_value, sort_keys=True),
             None if new_value is None else json.dumps(new_value, sort_keys=True)))
        return int(cur.lastrowid)

    def recent(self, limit: int = 200, action_prefix: str = "") -> list[AuditEntry]:
        rows = self.conn.execute(
            "SELECT id, at, actor, action, target, old_value, new_value FROM audit_log "
            "WHERE action LIKE ? ORDER BY at DESC, id DESC LIMIT ?",
            (action_prefix.replace("%", "") + "%", limit)).fetchall()
        return [AuditEntry(*r) for r in rows]
