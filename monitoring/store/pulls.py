"""Pull records: one row per attempt to get predictions, whatever its outcome."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.store.connection import Connection

OUTCOMES = ("ok", "partial", "failed", "fallback")


@dataclass(frozen=True)
class PullRecord:
    slot_at: int
    started_at: int
    finished_at: int
    kind: str
    source: str
    outcome: str
    rows_received: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    latency_ms: float | None = None
    attempts: int = 0
    http_status: int | None = None
    error: str | None = None
    breaker_state: str | None = None
    cycle_id: str | None = None
    id: int | None = None


_COLUMNS = ("slot_at", "started_at", "finished_at", "kind", "source", "outcome", "rows_received",
            "rows_stored", "rows_rejected", "latency_ms", "attempts", "http_status", "error",
            "breaker_state", "cycle_id")
_SELECT = ("SELECT slot_at, started_at, finished_at, kind, source, outcome, rows_received, rows_stored, "
           "rows_rejected, latency_ms, attempts, http_status, error, breaker_state, cycle_id, id FROM pulls")
_INSERT = ("INSERT INTO pulls (slot_at, started_at, finished_at, kind, source, outcome, rows_received, "
           "rows_stored, rows_rejected, latency_ms, attempts, http_status, error, breaker_state, cycle_id) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _record(row: tuple) -> PullRecord:
    return PullRecord(*row)


class Pulls:
    """Repository for ``pulls``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, record: PullRecord) -> int:
        values = tuple(getattr(record, c) for c in _COLUMNS)
        cur = self.conn.execute(_INSERT, values)
        return int(cur.lastrowid)

    def set_counts(self, pull_id: int, stored: int, rejected: int) -> None:
        self.conn.execute("UPDATE pulls SET rows_stored = ?, rows_rejected = ? WHERE id = ?",
                          (stored, rejected, pull_id))

    def set_outcome(self, pull_id: int, outcome: str) -> None:
        self.conn.execute("UPDATE pulls SET outcome = ? WHERE id = ?", (outcome, pull_id))

    def get(self, pull_id: int) -> PullRecord | None:
        row = self.conn.execute(_SELECT + " WHERE id = ?", (pull_id,)).fetchone()
        return _record(row) if row else None

    def stored_for_slot(self, slot_at: int, kind: str) -> PullRecord | None:
        """The first pull of ``kind`` for the slot that got data (real or simulated), if any."""
        row = self.conn.execute(
            _SELECT + " WHERE slot_at = ? AND kind = ? AND outcome != 'failed' ORDER BY id LIMIT 1",
            (slot_at, kind)).fetchone()
        return _record(row) if row else None

    def latest(self, kinds: tuple[str, ...] = ("scheduled", "manual")) -> PullRecord | None:
        marks = ",".join("?" * len(kinds))
        row = self.conn.execute(
            _SELECT + f" WHERE kind IN ({marks}) ORDER BY started_at DESC, id DESC LIMIT 1",
            kinds).fetchone()
        return _record(row) if row else None

    def recent(self, start: int, end: int, limit: int = 500) -> list[PullRecord]:
        rows = self.conn.execute(
            _SELECT + " WHERE started_at >= ? AND started_at < ? ORDER BY started_at DESC, id DESC "
            "LIMIT ?", (start, end, limit)).fetchall()
        return [_record(r) for r in rows]

    def last_success_at(self) -> int | None:
        row = self.conn.execute(
            "SELECT max(finished_at) FROM pulls WHERE outcome IN ('ok','partial') "
            "AND source = 'azure_ml'").fetchone()
        return row[0]

    def consecutive_failures(self) -> int:
        """Endpoint pulls that failed (or fell back) since the last good one."""
        row = self.conn.execute(
            "SELECT count(*) FROM pulls WHERE kind IN ('scheduled','manual') "
            "AND outcome IN ('failed','fallback') AND source != 'import' AND started_at > "
            "coalesce((SELECT max(started_at) FROM pulls WHERE kind IN ('scheduled','manual') "
            "AND outcome IN ('ok','partial') AND source = 'azure_ml'), -1)").fetchone()
        return int(row[0])

    def latencies(self, start: int, end: int) -> list[tuple[int, float, str]]:
        """(started_at, latency_ms, outcome) of endpoint calls in a range, for percentiles."""
        return [(int(a), float(b), c) for a, b, c in self.conn.execute(
            "SELECT started_at, latency_ms, outcome FROM pulls WHERE started_at >= ? "
            "AND started_at < ? AND latency_ms IS NOT NULL AND kind IN ('scheduled','manual') "
            "ORDER BY started_at", (start, end))]

    def outcome_counts(self, start: int, end: int, bucket_ms: int) -> list[tuple[int, str, int]]:
        """(bucket start, outcome, count), aggregated in SQL."""
        return [(int(b), o, int(n)) for b, o, n in self.conn.execute(
            "SELECT (started_at / ?) * ? AS b, outcome, count(*) FROM pulls "
            "WHERE started_at >= ? AND started_at < ? GROUP BY b, outcome ORDER BY b",
            (bucket_ms, bucket_ms, start, end))]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM pulls").fetchone()[0])
