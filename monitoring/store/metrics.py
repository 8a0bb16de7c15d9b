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

    def summary(self, start: int, end: int,
                q: float = 0.95) -> list[tuple[str, str, int, float, float, float]]:
        """(name, labels, count, mean, q-quantile, max) per metric and label, all in SQL.

        The quantile interpolates linearly between order statistics, as numpy's default does,
        so the metrics page never loads raw samples (90 days of page timings can be large).
        """
        sql = """
            WITH ranked AS (
                SELECT name, labels, value,
                       row_number() OVER (PARTITION BY name, labels ORDER BY value) AS rn,
                       count(*) OVER (PARTITION BY name, labels) AS n
                FROM op_metrics WHERE at >= :start AND at < :end),
            g AS (
                SELECT name, labels, n, value, rn,
                       CAST(:q * (n - 1) AS INTEGER) + 1 AS lo,
                       :q * (n - 1) - CAST(:q * (n - 1) AS INTEGER) AS f
                FROM ranked)
            SELECT name, labels, max(n), avg(value),
                   max(CASE WHEN rn = lo THEN value END) * (1 - max(f))
                   + coalesce(max(CASE WHEN rn = lo + 1 THEN value END),
                              max(CASE WHEN rn = lo THEN value END)) * max(f),
                   max(value)
            FROM g GROUP BY name, labels ORDER BY name, labels"""
        return [(n, lab, int(c), float(m), float(p), float(hi)) for n, lab, c, m, p, hi in self.conn.execute(
            sql, {"start": start, "end": end, "q": q})]

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM op_metrics ORDER BY 1")]

    def delete_before(self, cutoff: int, limit: int | None = None) -> int:
        """Retention: samples older than ``cutoff``, at most ``limit`` (oldest first) per call."""
        if limit is None:
            return self.conn.execute("DELETE FROM op_metrics WHERE at < ?", (cutoff,)).rowcount
        return self.conn.execute(
            "DELETE FROM op_metrics WHERE id IN (SELECT id FROM op_metrics WHERE at < ? "
            "ORDER BY at LIMIT ?)", (cutoff, limit)).rowcount
