"""What the drift page shows for one field: reference, current window, verdicts, history.

Distributions are histograms over the reference range and the current
window (the pulls the window methods compared), with shared bins. The trend series and
the CUSUM path come from the detector's stored state and drift runs, so the page
shows exactly what the detector saw, without re-running it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from monitoring.context import Monitor
from monitoring.drift.registry import BY_NAME
from monitoring.store import DriftStore, Predictions
from monitoring.timeutil import from_ms, parse_iso, to_ms
from monitoring.views.common import TimeRange, timed

CUSUM_METHODS = ("cusum_location", "cusum_scale", "cusum_shape")
DAY_S = 86_400.0


@dataclass(frozen=True)
class ReferenceInfo:
    id: int
    version: int
    created_at: datetime
    created_by: str
    span: TimeRange
    rows: int
    note: str | None
    level: float
    residual_sd: float
    value_sd: float
    quantiles: tuple[float, ...] = ()  # value quantiles frozen with the reference (may be absent)


@dataclass(frozen=True)
class MethodRow:
    name: str
    display_name: str
    kind: str
    statistic: float | None
    threshold: float | None
    higher_means_drift: bool
    verdict: str  # drifted | stable | skipped
    effect_size: float | None
    severity: str | None
    note: str


@dataclass(frozen=True)
class DriftOverview:
    field: str
    reference: ReferenceInfo | None
    checked_at: datetime | None
    status: str  # ok | skipped | none
    reason: str | None
    drifted: bool
    severity: str | None
    methods: list[MethodRow]
    window: TimeRange | None
    trend_times: list[datetime] = field(default_factory=list)
    trend_levels: list[float] = field(default_factory=list)
    trend_line: tuple[datetime, datetime, float, float] | None = None  # t0, t1, y0, y1
    change_started_at: datetime | None = None
    checked_through: datetime | None = None  # the newest row detection has folded in
    unchecked_from: datetime | None = None  # the oldest row it has not: set while catching up


def _reference_info(record: Any) -> ReferenceInfo:
    core = record.model["core"]
    return ReferenceInfo(record.id, record.version, from_ms(record.created_at), record.created_by,
                         TimeRange(from_ms(record.start_at), from_ms(record.end_at + 1)), record.n_rows,
                         record.note, float(core["coef"][0]), float(core["scale"]), float(core["value_sd"]),
                         tuple(record.model.get("display", {}).get("quantiles", ())))


def method_rows(result: dict[str, Any]) -> list[MethodRow]:
    """The latest check's methods in registry order, each with its verdict in words."""
    rows = []
    for m in result.get("methods", []):
        spec = BY_NAME.get(m["name"])
        verdict = "skipped" if m.get("skipped") else "drifted" if m["drifted"] else "stable"
        note = m.get("skipped") or ""
        details = m.get("details") or {}
        if not note and details.get("direction"):
            note = str(details["direction"])
        rows.append(MethodRow(m["name"], spec.display_name if spec else m["name"], m["kind"],
                              m.get("statistic"), m.get("threshold"),
                              spec.higher_means_drift if spec else True, verdict,
                              m.get("effect_size"), m.get("severity"), note))
    return rows


def _change_start(result: dict[str, Any]) -> datetime | None:
    starts = [m["details"].get("change_started_at") for m in result.get("methods", [])
              if m["name"] in CUSUM_METHODS and m.get("drifted") and m.get("details")]
    starts = [parse_iso(s) for s in starts if s]
    return min(starts) if starts else None


def overview(monitor: Monitor, field_name: str) -> DriftOverview:
    """Reference facts, the latest verdicts and the detector's trend window for one field."""
    with timed("drift.overview"), monitor.store.read() as conn:
        drift = DriftStore(conn)
        record = drift.active_reference(field_name)
        latest = drift.latest_run(field_name)
        state = drift.state(field_name)
        through = drift.checked_through(field_name)
        first = (Predictions(conn).first_at(field_name, through + 1, monitor.analysis_sources)
                 if through is not None else None)  # one indexed step past the progress: a backlog?
    unchecked = from_ms(first) if first is not None else None
    reference = _reference_info(record) if record else None
    checked_through = from_ms(through) if through is not None else None
    if latest is None:
        return DriftOverview(field_name, reference, None, "none", "no drift check has run yet", False,
                             None, [], None, checked_through=checked_through, unchecked_from=unchecked)
    result = latest.result
    window = None
    trend_times: list[datetime] = []
    levels: list[float] = []
    line = None
    if state and record and state[0] == record.id:
        saved = state[2]
        if saved["window"]:
            window = TimeRange(from_ms(saved["window"][0]["t"] * 1000),
                               from_ms(saved["window"][-1]["t"] * 1000 + 1))
        if saved["trend"] and reference:
            times = np.array([t for t, _, _ in saved["trend"]])
            trend_times = [from_ms(t * 1000) for t in times]
            levels = [reference.level + dev for _, _, dev in saved["trend"]]
            mk = next((m for m in result.get("methods", []) if m["name"] == "mann_kendall"
                       and not m.get("skipped")), None)
            if mk:
                slope = float(mk["details"]["slope_per_day"])
                intercept = float(mk["details"]["intercept"])
                days = (times[-1] - times[0]) / DAY_S
                line = (trend_times[0], trend_times[-1], intercept, intercept + slope * days)
    return DriftOverview(field_name, reference, from_ms(latest.run_at), latest.status, latest.reason,
                         latest.drifted, latest.severity, method_rows(result), window, trend_times, levels,
                         line, _change_start(result), checked_through, unchecked)


@dataclass(frozen=True)
class Distributions:
    edges: np.ndarray
    reference: np.ndarray  # densities
    current: np.ndarray
    reference_rows: int
    current_rows: int


def distributions(monitor: Monitor, field_name: str, reference: ReferenceInfo, current: TimeRange,
                  sources: tuple[str, ...], bins: int = 40) -> Distributions | None:
    """Reference and current histograms on shared bins.

    The reference side comes from the value quantiles frozen with it (1001 of them, so a
    bin is off by at most 0.1% of the rows), so a page never re-reads a reference that
    may hold hundreds of thousands of rows; the current window is read from the store.
    """
    q = np.asarray(reference.quantiles, dtype=float)
    with timed("drift.distributions"), monitor.store.read() as conn:
        repo = Predictions(conn)
        spans = [repo.value_range(field_name, current.start_ms, current.end_ms, sources)]
        spans.append((float(q[0]), float(q[-1])) if q.size else
                     repo.value_range(field_name, reference.span.start_ms, reference.span.end_ms, sources))
        spans = [s for s in spans if s]
        if not spans:
            return None
        lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
        width = (hi - lo) / bins if hi > lo else 1.0
        cur = repo.histogram(field_name, current.start_ms, current.end_ms, sources, lo, width, bins)
        if q.size:
            ref = _from_quantiles(q, lo, width, bins, reference.rows)
        else:  # a reference frozen before quantiles were kept
            ref = repo.histogram(field_name, reference.span.start_ms, reference.span.end_ms, sources, lo,
                                 width, bins).astype(float)
    edges = lo + width * np.arange(bins + 1)
    dens = [c / max(c.sum(), 1) / width for c in (ref, cur)]
    return Distributions(edges, dens[0], dens[1], int(round(ref.sum())), int(cur.sum()))


def _from_quantiles(q: np.ndarray, lo: float, width: float, bins: int, rows: int) -> np.ndarray:
    """Expected counts per bin from the empirical CDF the quantiles describe."""
    edges = lo + width * np.arange(bins + 1)
    cdf = np.searchsorted(q, edges, side="right") / q.size  # step ECDF: exact for ties
    cdf[0], cdf[-1] = 0.0, 1.0  # the ends are clamped, as the SQL histogram clamps them
    return np.diff(cdf) * rows


@dataclass(frozen=True)
class RunHistory:
    times: list[datetime]
    status: list[str]  # drifted | stable | skipped
    severity: list[str | None]
    cusum: dict[str, list[float | None]]  # method -> sum/threshold per run


def run_history(monitor: Monitor, field_name: str, span: TimeRange, limit: int = 2000) -> RunHistory:
    """Verdicts and CUSUM statistics per stored drift run in the range (oldest first)."""
    with timed("drift.history"), monitor.store.read() as conn:
        runs = DriftStore(conn).runs(field_name, span.start_ms, span.end_ms, limit)
    cusum: dict[str, list[float | None]] = {m: [] for m in CUSUM_METHODS}
    for run in runs:
        by_name = {m["name"]: m for m in run.result.get("methods", [])}
        for name in CUSUM_METHODS:
            cusum[name].append(by_name.get(name, {}).get("statistic"))
    return RunHistory([from_ms(r.run_at) for r in runs],
                      ["skipped" if r.status == "skipped" else "drifted" if r.drifted else "stable"
                       for r in runs], [r.severity for r in runs], cusum)


def references(monitor: Monitor, field_name: str) -> list[ReferenceInfo]:
    with monitor.store.read() as conn:
        return [_reference_info(r) for r in DriftStore(conn).references(field_name)]


def stamp(moment: datetime | None) -> int | None:
    return to_ms(moment) if moment else None
