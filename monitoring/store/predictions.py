"""Predictions and their hourly per-field rollups.

Each row keeps all numeric outputs in a JSON ``payload``, so monitoring a new output
is a setting, not a migration. The rollup (count, sum, sum of squares, min, max per
field, source and hour) is maintained in the same transaction as the rows, so charts
over months read a few thousand rollup rows instead of a million predictions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from monitoring.store.connection import Connection

HOUR_MS = 3_600_000
SOURCES = ("azure_ml", "import", "mock")
ROW_COUNT = "#rows"  # rollup pseudo-field counting rows; '#' is never valid in a field name


@dataclass(frozen=True)
class StoredRow:
    """A validated prediction ready to store (times in epoch ms)."""

    predicted_at: int
    ordinal: int
    values: dict[str, float]
    model_version: str | None = None


def _json_path(field: str) -> str:
    return '$."' + field.replace('"', "") + '"'


def _in_sources(sources: Sequence[str]) -> tuple[str, list[str]]:
    picked = [s for s in sources if s in SOURCES]
    return ",".join("?" * len(picked)) or "NULL", picked


class Predictions:
    """Repository for ``predictions`` and ``field_rollup``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, pull_id: int, source: str, rows: Sequence[StoredRow]) -> int:
        """Store rows not already stored (same time, source and ordinal); return how many."""
        if not rows:
            return 0
        lo = min(r.predicted_at for r in rows)
        hi = max(r.predicted_at for r in rows)
        existing = set(self.conn.execute(
            "SELECT predicted_at, ordinal FROM predictions "
            "WHERE predicted_at BETWEEN ? AND ? AND source = ?", (lo, hi, source)).fetchall())
        fresh = [r for r in rows if (r.predicted_at, r.ordinal) not in existing]
        if not fresh:
            return 0
        self.conn.executemany(
            "INSERT INTO predictions (predicted_at, source, ordinal, pull_id, model_version, payload) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((r.predicted_at, source, r.ordinal, pull_id, r.model_version,
              json.dumps(r.values, separators=(",", ":"))) for r in fresh))
        self._roll_up(source, fresh)
        return len(fresh)

    def _roll_up(self, source: str, rows: Sequence[StoredRow]) -> None:
        buckets: dict[tuple[str, int], list[float]] = {}
        for row in rows:
            hour = row.predicted_at - row.predicted_at % HOUR_MS
            buckets.setdefault((ROW_COUNT, hour), []).append(1.0)
            for field, value in row.values.items():
                buckets.setdefault((field, hour), []).append(value)
        params = []
        for (field, hour), values in buckets.items():
            arr = np.asarray(values, dtype=float)
            params.append((field, source, hour, int(arr.size), float(arr.sum()),
                           float(np.dot(arr, arr)), float(arr.min()), float(arr.max())))
        self.conn.executemany(
            "INSERT INTO field_rollup (field, source, hour_at, n, total, sumsq, lo, hi) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (field, source, hour_at) DO UPDATE SET "
            "n = n + excluded.n, total = total + excluded.total, sumsq = sumsq + excluded.sumsq, "
            "lo = min(lo, excluded.lo), hi = max(hi, excluded.hi)", params)

    # -- reads ---------------------------------------------------------------------------
    def values(self, field: str, start: int, end: int, sources: Sequence[str],
               limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(times ms, values) of one field in [start, end), oldest first, rows lacking it skipped."""
        marks, picked = _in_sources(sources)
        sql = (f"SELECT predicted_at, value FROM (SELECT predicted_at, ordinal, "  # noqa: S608
               f"json_extract(payload, ?) AS value FROM predictions "
               f"WHERE predicted_at >= ? AND predicted_at < ? AND source IN ({marks})) "
               f"WHERE value IS NOT NULL ORDER BY predicted_at, ordinal")
        params: list[object] = [_json_path(field), start, end, *picked]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = self.conn.execute(sql, params).fetchall()
        if not rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=float)
        times, values = zip(*rows, strict=True)
        return np.asarray(times, dtype=np.int64), np.asarray(values, dtype=float)

    def rows(self, start: int, end: int, sources: Sequence[str]) -> Iterator[tuple]:
        """Raw rows (predicted_at, source, ordinal, model_version, payload) for export."""
        marks, picked = _in_sources(sources)
        yield from self.conn.execute(
            f"SELECT predicted_at, source, ordinal, model_version, payload FROM predictions "  # noqa: S608
            f"WHERE predicted_at >= ? AND predicted_at < ? AND source IN ({marks}) "
            f"ORDER BY predicted_at, source, ordinal", (start, end, *picked))

    def series(self, field: str, start: int, end: int, sources: Sequence[str],
               bucket_ms: int = HOUR_MS) -> list[tuple[int, int, float, float, float, float]]:
        """Per bucket: (bucket start, n, mean, sd, min, max), aggregated in SQL from rollups."""
        bucket_ms = max(HOUR_MS, bucket_ms - bucket_ms % HOUR_MS)
        marks, picked = _in_sources(sources)
        rows = self.conn.execute(
            f"SELECT (hour_at / ?) * ? AS b, sum(n), sum(total), sum(sumsq), min(lo), max(hi) "  # noqa: S608
            f"FROM field_rollup WHERE field = ? AND hour_at >= ? AND hour_at < ? "
            f"AND source IN ({marks}) GROUP BY b ORDER BY b",
            (bucket_ms, bucket_ms, field, start - start % HOUR_MS, end, *picked)).fetchall()
        out = []
        for b, n, total, sumsq, lo, hi in rows:
            mean = total / n
            var = max(sumsq / n - mean * mean, 0.0) * (n / (n - 1) if n > 1 else 0.0)
            out.append((int(b), int(n), mean, var ** 0.5, lo, hi))
        return out

    def fields(self) -> list[str]:
        """Every numeric output seen so far (from the rollup, not the rows)."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT field FROM field_rollup WHERE field != ? ORDER BY field",
            (ROW_COUNT,))]

    def count_by_source(self) -> dict[str, int]:
        """Stored rows per source, from the rollup (no scan of the predictions table)."""
        return {s: int(n) for s, n in self.conn.execute(
            "SELECT source, sum(n) FROM field_rollup WHERE field = ? GROUP BY source",
            (ROW_COUNT,))}

    def count(self, sources: Iterable[str] = SOURCES) -> int:
        counts = self.count_by_source()
        return sum(counts.get(s, 0) for s in sources)

    def span(self, sources: Sequence[str]) -> tuple[int | None, int | None]:
        """(first, last) predicted_at among the given sources."""
        marks, picked = _in_sources(sources)
        lo, hi = self.conn.execute(
            f"SELECT min(predicted_at), max(predicted_at) FROM predictions "  # noqa: S608
            f"WHERE source IN ({marks})", picked).fetchone()
        return lo, hi

    def delete_before(self, cutoff: int) -> int:
        """Retention: drop rows and rollups older than ``cutoff``."""
        cur = self.conn.execute("DELETE FROM predictions WHERE predicted_at < ?", (cutoff,))
        self.conn.execute("DELETE FROM field_rollup WHERE hour_at < ?",
                          (cutoff - cutoff % HOUR_MS,))
        return cur.rowcount
