"""What the metrics page shows: pull latency percentiles, outcomes, scheduler, store, machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psutil

from monitoring.context import Monitor
from monitoring.machine import memory_percent
from monitoring.scheduler import scheduler_status
from monitoring.store import Alerts, Metrics, Predictions, Pulls, Rejected
from monitoring.timeutil import from_ms
from monitoring.views.common import SOURCE_LABELS, TimeRange, timed

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class LatencySeries:
    times: list[datetime]
    p50: list[float]
    p95: list[float]
    p99: list[float]
    counts: list[int]


def pull_latency(monitor: Monitor, span: TimeRange, max_points: int = 120) -> LatencySeries:
    """p50/p95/p99 of pull latency per bucket (pulls are one row per interval: few rows)."""
    bucket = span.bucket_ms(max_points)
    with timed("metrics.latency"), monitor.store.read() as conn:
        samples = Pulls(conn).latencies(span.start_ms, span.end_ms)
    if not samples:
        return LatencySeries([], [], [], [], [])
    at = np.array([s[0] for s in samples], dtype=np.int64)
    ms = np.array([s[1] for s in samples])
    keys = at - at % bucket
    out = LatencySeries([], [], [], [], [])
    for key in np.unique(keys):
        values = ms[keys == key]
        p = np.percentile(values, PERCENTILES)
        out.times.append(from_ms(int(key)))
        out.p50.append(float(p[0]))
        out.p95.append(float(p[1]))
        out.p99.append(float(p[2]))
        out.counts.append(int(values.size))
    return out


def outcomes(monitor: Monitor, span: TimeRange, max_points: int = 48) -> list[dict[str, Any]]:
    """Pull outcome counts per bucket, aggregated in SQL."""
    with timed("metrics.outcomes"), monitor.store.read() as conn:
        rows = Pulls(conn).outcome_counts(span.start_ms, span.end_ms, span.bucket_ms(max_points))
    return [{"bucket": from_ms(b), "outcome": o, "pulls": n} for b, o, n in rows]


def op_summary(monitor: Monitor, span: TimeRange) -> list[dict[str, Any]]:
    """Per recorded metric and label (cycle, drift check per field, page query per query ...):
    count, mean, p95, max, aggregated in SQL."""
    with timed("metrics.summary"), monitor.store.read() as conn:
        rows = Metrics(conn).summary(span.start_ms, span.end_ms)
    return [{"metric": name, "label": label, "samples": count, "mean": mean, "p95": p95, "max": top}
            for name, label, count, mean, p95, top in rows]


@dataclass(frozen=True)
class StoreFacts:
    size_mb: float
    rows: dict[str, int]
    rejected: int
    pulls: int
    alerts: dict[str, int]


def store_facts(monitor: Monitor) -> StoreFacts:
    with timed("metrics.store"), monitor.store.read() as conn:
        rows = Predictions(conn).count_by_source()
        rejected = Rejected(conn).count()
        pulls = Pulls(conn).count()
        alerts = Alerts(conn).counts()
    return StoreFacts(monitor.store.size_bytes() / 2**20,
                      {SOURCE_LABELS.get(k, k): v for k, v in sorted(rows.items())}, rejected, pulls, alerts)


def machine(monitor: Monitor) -> dict[str, float]:
    """CPU, memory and data-disk use right now (psutil), and this process's memory."""
    data_dir = monitor.config.data_dir
    disk = psutil.disk_usage(str(data_dir if data_dir.exists() else "."))
    return {"cpu_percent": psutil.cpu_percent(interval=None),
            "memory_percent": memory_percent()[0],  # the container's limit when it has one
            "process_rss_mb": psutil.Process().memory_info().rss / 2**20,
            "disk_used_percent": 100.0 * disk.used / disk.total,
            "disk_free_gb": disk.free / 2**30}


def schedule(monitor: Monitor) -> dict[str, Any]:
    """Last and next run, last success and error, as recorded by whichever instance ran."""
    return scheduler_status(monitor)


def breaker_state(monitor: Monitor) -> str | None:
    """The live breaker of this process's scheduler, else the state the last pull recorded."""
    from monitoring import lifecycle

    background = lifecycle.running()
    if isinstance(background, lifecycle.Background) and background.monitor is monitor:
        return background.pipeline.breaker_state()
    with monitor.store.read() as conn:
        latest = Pulls(conn).latest()
    return latest.breaker_state if latest else None
