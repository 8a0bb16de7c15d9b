"""Quarantine: rows that failed validation, kept with the reason, never dropped."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.store.connection import Connection

RAW_LIMIT = 2000


@dataclass(frozen=True)
class Rejection:
    row_ref: str
    reason: str
    raw: str
    field: str | None = None


class Rejected:
    """Repository for ``rejected_rows``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, pull_id: int | None, source: str, received_at: int,
            rejections: list[Rejection]) -> int:
        """Store rejections not already stored for this source (same ``row_ref``)."""
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT OR IGNORE INTO rejected_rows (pull_id, received_at, source, row_ref, field, "
            "reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((pull_id, received_at, source, r.row_ref, r.field, r.reason[:500], r.raw[:RAW_LIMIT])
             for r in rejections))
        return self.conn.total_changes - before

    def recent(self, start: int, end: int, limit: int = 500) -> list[dict]:
        rows = self.conn.execute(
            "SELECT id, pull_id, received_at, source, row_ref, field, reason, raw FROM rejected_rows "
            "WHERE received_at >= ? AND received_at < ? ORDER BY received_at DESC, id DESC LIMIT ?",
            (start, end, limit)).fetchall()
        keys = ("id", "pull_id", "received_at", "source", "row_ref", "field", "reason", "raw")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM rejected_rows").fetchone()[0])

    def delete_before(self, cutoff: int, limit: int) -> int:
        """Retention: rows received before ``cutoff``, at most ``limit`` (oldest first)."""
        return self.conn.execute(
            "DELETE FROM rejected_rows WHERE id IN (SELECT id FROM rejected_rows "
            "WHERE received_at < ? ORDER BY received_at LIMIT ?)", (cutoff, limit)).rowcount
