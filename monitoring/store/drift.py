"""Frozen, versioned drift references; per-field detector state; stored drift runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitoring.store.connection import Connection


@dataclass(frozen=True)
class ReferenceRecord:
    id: int
    field: str
    version: int
    created_at: int
    created_by: str
    start_at: int
    end_at: int
    n_rows: int
    sources: str
    status: str
    note: str | None
    model: dict


@dataclass(frozen=True)
class DriftRun:
    id: int
    run_at: int
    field: str
    reference_id: int | None
    status: str
    drifted: bool
    severity: str | None
    reason: str | None
    result: dict


_REF = ("SELECT id, field, version, created_at, created_by, start_at, end_at, n_rows, sources, "
        "status, note, model FROM drift_references")
_RUN = ("SELECT id, run_at, field, reference_id, status, drifted, severity, reason, result "
        "FROM drift_runs")


def _ref(row: tuple) -> ReferenceRecord:
    values = list(row)
    values[-1] = json.loads(values[-1])
    return ReferenceRecord(*values)


def _run(row: tuple) -> DriftRun:
    values = list(row)
    values[5] = bool(values[5])
    values[-1] = json.loads(values[-1])
    return DriftRun(*values)


class DriftStore:
    """Repository for ``drift_references``, ``drift_state`` and ``drift_runs``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # references
    def add_reference(self, field: str, created_at: int, created_by: str, start_at: int,
                      end_at: int, n_rows: int, sources: str, model: dict,
                      note: str | None = None) -> ReferenceRecord:
        """Store a new active version and retire the previous one (and its detector state)."""
        version = int(self.conn.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM drift_references WHERE field = ?",
            (field,)).fetchone()[0])
        self.conn.execute("DELETE FROM drift_state WHERE field = ?", (field,))
        self.conn.execute("UPDATE drift_references SET status = 'retired' "
                          "WHERE field = ? AND status = 'active'", (field,))
        cur = self.conn.execute(
            "INSERT INTO drift_references (field, version, created_at, created_by, start_at, end_at, "
            "n_rows, sources, status, note, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
            (field, version, created_at, created_by, start_at, end_at, n_rows, sources, note,
             json.dumps(model, separators=(",", ":"))))
        ref = self.reference(int(cur.lastrowid))
        assert ref is not None
        return ref

    def reference(self, reference_id: int) -> ReferenceRecord | None:
        row = self.conn.execute(_REF + " WHERE id = ?", (reference_id,)).fetchone()
        return _ref(row) if row else None

    def active_reference_id(self, field: str) -> tuple[int, int] | None:
        """(id, end_at) of the active reference, without parsing its model."""
        row = self.conn.execute("SELECT id, end_at FROM drift_references WHERE field = ? "
                                "AND status = 'active'", (field,)).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def active_reference(self, field: str) -> ReferenceRecord | None:
        row = self.conn.execute(_REF + " WHERE field = ? AND status = 'active'", (field,)).fetchone()
        return _ref(row) if row else None

    def references(self, field: str | None = None) -> list[ReferenceRecord]:
        if field is None:
            return [_ref(r) for r in self.conn.execute(_REF + " ORDER BY field, version DESC")]
        return [_ref(r) for r in self.conn.execute(_REF + " WHERE field = ? ORDER BY version DESC",
                                                   (field,))]

    # detector state
    def state(self, field: str) -> tuple[int, int, Any] | None:
        """(reference_id, through_at, state) for a field, if any."""
        row = self.conn.execute(
            "SELECT reference_id, through_at, state FROM drift_state WHERE field = ?",
            (field,)).fetchone()
        return (int(row[0]), int(row[1]), json.loads(row[2])) if row else None

    def checked_through(self, field: str) -> int | None:
        """Where detection of ``field`` carries on (epoch ms): after its state and its active
        reference's end (a re-baseline may end later than the state); None before any reference.
        Read without parsing the state, so ordering fields or showing a backlog stays cheap."""
        row = self.conn.execute(
            "SELECT max(coalesce((SELECT through_at FROM drift_state WHERE field = ?), -1), "
            "coalesce((SELECT end_at FROM drift_references WHERE field = ? AND status = 'active'), -1))",
            (field, field)).fetchone()
        return int(row[0]) if row[0] >= 0 else None

    def put_state(self, field: str, reference_id: int, through_at: int, state: Any) -> None:
        self.conn.execute(
            "INSERT INTO drift_state (field, reference_id, through_at, state) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (field) DO UPDATE SET reference_id = excluded.reference_id, "
            "through_at = excluded.through_at, state = excluded.state",
            (field, reference_id, through_at, json.dumps(state, separators=(",", ":"))))

    # runs
    def add_run(self, run_at: int, field: str, reference_id: int | None, status: str,
                drifted: bool, severity: str | None, reason: str | None, result: dict) -> int:
        cur = self.conn.execute(
            "INSERT INTO drift_runs (run_at, field, reference_id, status, drifted, severity, reason, "
            "result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_at, field, reference_id, status, int(drifted), severity, reason,
             json.dumps(result, separators=(",", ":"))))
        return int(cur.lastrowid)

    def latest_run(self, field: str) -> DriftRun | None:
        row = self.conn.execute(_RUN + " WHERE field = ? ORDER BY run_at DESC, id DESC LIMIT 1",
                                (field,)).fetchone()
        return _run(row) if row else None

    def runs(self, field: str, start: int, end: int, limit: int = 2000) -> list[DriftRun]:
        rows = self.conn.execute(
            _RUN + " WHERE field = ? AND run_at >= ? AND run_at < ? ORDER BY run_at DESC LIMIT ?",
            (field, start, end, limit)).fetchall()
        return [_run(r) for r in reversed(rows)]

    def delete_runs_before(self, cutoff: int, limit: int | None = None) -> int:
        """Retention: runs older than ``cutoff``, at most ``limit`` (oldest first) per call."""
        if limit is None:
            return self.conn.execute("DELETE FROM drift_runs WHERE run_at < ?", (cutoff,)).rowcount
        return self.conn.execute(
            "DELETE FROM drift_runs WHERE id IN (SELECT id FROM drift_runs WHERE run_at < ? "
            "ORDER BY run_at LIMIT ?)", (cutoff, limit)).rowcount
