"""What the history page shows: per-field series, quarantine, pulls, and the CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from monitoring.context import Monitor
from monitoring.store import Predictions, Pulls, Rejected
from monitoring.timeutil import from_ms, iso
from monitoring.views.common import SOURCE_LABELS, TimeRange, timed

MAX_EXPORT_ROWS = 250_000


@dataclass(frozen=True)
class SeriesPoint:
    at_ms: int
    n: int
    mean: float
    sd: float
    lo: float
    hi: float


def monitored_fields(monitor: Monitor) -> list[str]:
    """Monitored fields first, then any other numeric output already stored."""
    wanted = list(monitor.settings.effective()["monitored_fields"])
    with monitor.store.read() as conn:
        stored = Predictions(conn).fields()
    return wanted + [f for f in stored if f not in wanted]


def series(monitor: Monitor, field: str, span: TimeRange, sources: tuple[str, ...],
           max_points: int = 400) -> list[SeriesPoint]:
    """Bucketed mean, sd, min and max from the hourly rollups (never a scan of raw rows)."""
    with timed("history.series"), monitor.store.read() as conn:
        rows = Predictions(conn).series(field, span.start_ms, span.end_ms, sources,
                                        span.bucket_ms(max_points))
    return [SeriesPoint(*row) for row in rows]


def rejected(monitor: Monitor, span: TimeRange, limit: int = 500) -> list[dict[str, Any]]:
    with timed("history.rejected"), monitor.store.read() as conn:
        rows = Rejected(conn).recent(span.start_ms, span.end_ms, limit)
    return [{"received": from_ms(r["received_at"]), "source": SOURCE_LABELS.get(r["source"], r["source"]),
             "row": r["row_ref"], "field": r["field"] or "", "reason": r["reason"], "raw": r["raw"]}
            for r in rows]


def pulls(monitor: Monitor, span: TimeRange, limit: int = 500) -> list[dict[str, Any]]:
    with timed("history.pulls"), monitor.store.read() as conn:
        records = Pulls(conn).recent(span.start_ms, span.end_ms, limit)
    return [{"started": from_ms(p.started_at), "kind": p.kind,
             "source": SOURCE_LABELS.get(p.source, p.source), "outcome": p.outcome,
             "rows stored": p.rows_stored, "quarantined": p.rows_rejected,
             "latency ms": None if p.latency_ms is None else round(p.latency_ms, 1),
             "attempts": p.attempts, "http": p.http_status, "error": p.error or ""}
            for p in records]


def export_csv(monitor: Monitor, span: TimeRange, sources: tuple[str, ...],
               max_rows: int = MAX_EXPORT_ROWS) -> bytes:
    """The selected rows as CSV, streamed from the store; capped, and the cap is stated."""
    out = io.StringIO()
    writer: csv.DictWriter | None = None
    written = 0
    with timed("history.export"), monitor.store.read() as conn:
        for row in Predictions(conn).rows(span.start_ms, span.end_ms, sources):
            if written >= max_rows:
                out.write(f"# truncated at {max_rows} rows: narrow the range to export the rest\n")
                break
            row["predicted_at"] = iso(from_ms(row["predicted_at"]))
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            written += 1
    if writer is None:
        out.write("predicted_at,source,ordinal,model_version\n")
    return out.getvalue().encode("utf-8")
