"""Operational metrics: latency and outcome samples, with retention."""

from __future__ import annotations

from collections.abc import Iterable

from monitoring.store.connection import Connection


class Metrics:
    """Repository for ``op_metrics`` (name, value, labels at a time)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, at: int, name: str, value: float, labels: str = "") -> None:
        self.conn.execute("INSERT INTO op_metrics (at, name, value, labels) VALUES (?, ?, ?, ?)",
                          (at, name, float(value), labels))

    def add_many(self, samples: Iterable[tuple[int, str, float, str]]) -> None:
        self.conn.executemany(
            "INSERT INTO op_metrics (at, name, value, labels) VALUES (?, ?, ?, ?)", samples)

    def samples(self, name: str, start: int, end: int) -> list[tuple[int, float, str]]:
        return [(int(a), float(v), lab) for a, v, lab in self.conn.execute(
            "SELECT at, value, labels FROM op_metrics WHERE name = ? AND at >= ? AND at < ? "
            "ORDER BY at", (name, start, end))]

    def summary(self, start: int, end: int) -> list[tuple[str, int, float, float, float]]:
        """(name, count, mean, min, max) per metric, aggregated in SQL."""
        return [(n, int(c), float(m), float(lo), float(hi)) for n, c, m, lo, hi in self.conn.execute(
            "SELECT name, count(*), avg(value), min(value), max(value) FROM op_metrics "
            "WHERE at >= ? AND at < ? GROUP BY name ORDER BY name", (start, end))]

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM op_metrics ORDER BY 1")]

    def delete_before(self, cutoff: int, limit: int | None = None) -> int:
        """Retention: samples older than ``cutoff``, at most ``limit`` (oldest first) per call."""
        if limit is None:
            return self.conn.execute("DELETE FROM op_metrics WHERE at < ?", (cutoff,)).rowcount
        return self.conn.execute(
            "DELETE FROM op_metrics WHERE id IN (SELECT id FROM op_metrics WHERE at < ? "
            "ORDER BY at LIMIT ?)", (cutoff, limit)).rowcount
