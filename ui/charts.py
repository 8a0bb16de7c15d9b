"""Plotly figure builders, one consistent palette; pure functions of view data (never cached)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go

from monitoring.timeutil import from_ms
from monitoring.views.alerts import AlertDetail
from monitoring.views.drift import Distributions, DriftOverview, MethodRow, RunHistory
from monitoring.views.history import SeriesPoint
from monitoring.views.ops import LatencySeries

SEVERITY = {"info": "#1f6feb", "warning": "#bf8700", "critical": "#cf222e"}
VERDICT = {"stable": "#2da44e", "drifted": "#cf222e", "skipped": "#8c959f"}
OUTCOME = {"ok": "#2da44e", "partial": "#bf8700", "fallback": "#8250df", "failed": "#cf222e"}
REFERENCE, CURRENT, BAND = "#8c959f", "#1f6feb", "rgba(31,111,235,0.15)"
CUSUM = {"cusum_location": "#1f6feb", "cusum_scale": "#8250df", "cusum_shape": "#bf8700"}
PERCENTILES = {"p50": "#2da44e", "p95": "#bf8700", "p99": "#cf222e"}


def _layout(fig: go.Figure, title: str, y: str = "", height: int = 320, x_is_time: bool = True
            ) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 40, "r": 20, "t": 40, "b": 30},
                      yaxis_title=y, legend={"orientation": "h", "y": -0.2}, hovermode="x unified",
                      template="plotly_white")
    if x_is_time:  # only then: other charts keep the x title they set themselves
        fig.update_xaxes(title="UTC")
    return fig


def _vline(fig: go.Figure, at: datetime, label: str, color: str) -> None:
    """A labelled vertical marker (add_vline's annotation cannot handle datetimes in all cases)."""
    fig.add_shape(type="line", x0=at, x1=at, y0=0, y1=1, yref="paper",
                  line={"color": color, "dash": "dash", "width": 1.5})
    fig.add_annotation(x=at, y=1, yref="paper", text=label, showarrow=False, yanchor="bottom",
                       font={"color": color, "size": 11})


def series(points: Sequence[SeriesPoint], field: str, title: str | None = None) -> go.Figure:
    """Bucket means with a ±1 sd band and min/max whiskers, from the rollups."""
    times = [from_ms(p.at_ms) for p in points]
    mean = [p.mean for p in points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times, y=[p.mean + p.sd for p in points], line={"width": 0},
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=times, y=[p.mean - p.sd for p in points], fill="tonexty",
                             fillcolor=BAND, line={"width": 0}, name="±1 sd"))
    fig.add_trace(go.Scatter(x=times, y=mean, line={"color": CURRENT, "width": 2}, name="mean"))
    fig.add_trace(go.Scatter(x=times, y=[p.lo for p in points], line={"color": REFERENCE, "dash": "dot",
                                                                       "width": 1}, name="min"))
    fig.add_trace(go.Scatter(x=times, y=[p.hi for p in points], line={"color": REFERENCE, "dash": "dot",
                                                                       "width": 1}, name="max"))
    return _layout(fig, title or field, field)


def alert(detail: AlertDetail) -> go.Figure:
    points = [SeriesPoint(*row) for row in detail.series]
    fig = series(points, detail.alert.field or "", f"{detail.alert.field} around the alert")
    opened = from_ms(detail.alert.opened_at)
    _vline(fig, opened, "opened", SEVERITY[detail.alert.severity])
    if detail.alert.resolved_at:
        _vline(fig, from_ms(detail.alert.resolved_at), "resolved", VERDICT["stable"])
    return fig


def distributions(dist: Distributions, field: str) -> go.Figure:
    centers = (dist.edges[:-1] + dist.edges[1:]) / 2
    width = float(dist.edges[1] - dist.edges[0])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=centers, y=dist.reference, width=width, marker_color=REFERENCE, opacity=0.55,
                         name=f"reference ({dist.reference_rows} rows)"))
    fig.add_trace(go.Bar(x=centers, y=dist.current, width=width, marker_color=CURRENT, opacity=0.55,
                         name=f"current window ({dist.current_rows} rows)"))
    fig.update_layout(barmode="overlay")
    return _layout(fig, f"{field}: reference vs current window", "density", x_is_time=False)


def closeness(row: MethodRow) -> float | None:
    """How far a statistic is towards its threshold (1 = at the threshold), for either direction."""
    if row.statistic is None or row.threshold is None or row.verdict == "skipped":
        return None
    if row.higher_means_drift:
        return row.statistic / row.threshold if row.threshold else None
    p = max(row.statistic, 1e-300)
    return math.log(p) / math.log(row.threshold) if 0 < row.threshold < 1 else None


def methods(rows: Sequence[MethodRow]) -> go.Figure:
    shown = [(r, closeness(r)) for r in rows]
    shown = [(r, c) for r, c in shown if c is not None]
    fig = go.Figure(go.Bar(
        y=[r.display_name for r, _ in shown], x=[min(c, 3.0) for _, c in shown], orientation="h",
        marker_color=[VERDICT[r.verdict] for r, _ in shown],
        text=[r.verdict for r, _ in shown],
        textposition=["inside" if c >= 0.5 else "outside" for _, c in shown],  # a 0-length bar too
        hovertemplate="%{y}: %{x:.2f} of threshold<extra></extra>"))
    fig.add_shape(type="line", x0=1, x1=1, y0=0, y1=1, yref="paper",
                  line={"color": "#cf222e", "dash": "dash"})
    fig.update_xaxes(range=[0, 3], title="statistic / threshold (1 = alarm line; p-values on a log scale)")
    return _layout(fig, "Each method against its threshold", height=80 + 32 * max(len(shown), 1),
                   x_is_time=False)


def trend(view: DriftOverview) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=view.trend_times, y=view.trend_levels, mode="markers+lines",
                             marker={"size": 4, "color": CURRENT}, line={"width": 1, "color": CURRENT},
                             name="pull mean, seasonality removed"))
    if view.trend_line:
        t0, t1, y0, y1 = view.trend_line
        fig.add_trace(go.Scatter(x=[t0, t1], y=[y0, y1], mode="lines", line={"color": "#cf222e", "width": 2},
                                 name="Theil-Sen slope"))
    return _layout(fig, f"{view.field}: trend over the last {len(view.trend_times)} pulls", view.field)


def cusum(history: RunHistory, change_started_at: datetime | None) -> go.Figure:
    fig = go.Figure()
    for name, values in history.cusum.items():
        fig.add_trace(go.Scatter(x=history.times, y=values, mode="lines", name=name.replace("cusum_", ""),
                                 line={"color": CUSUM[name], "width": 1.5}))
    fig.add_shape(type="line", x0=0, x1=1, xref="paper", y0=1, y1=1,
                  line={"color": "#cf222e", "dash": "dash"})
    fig.add_annotation(x=0, xref="paper", y=1, text="threshold", showarrow=False, yanchor="bottom",
                       xanchor="left", font={"color": "#cf222e", "size": 11})
    if change_started_at:
        _vline(fig, change_started_at, "estimated change start", SEVERITY["critical"])
    return _layout(fig, "CUSUM (sum / calibrated threshold)", "sum / threshold")


def verdicts(history: RunHistory) -> go.Figure:
    fig = go.Figure()
    for verdict, color in VERDICT.items():
        picked = [(t, s) for t, v, s in zip(history.times, history.status, history.severity, strict=True)
                  if v == verdict]
        fig.add_trace(go.Scatter(x=[t for t, _ in picked], y=[verdict] * len(picked), mode="markers",
                                 marker={"color": color, "size": 7, "symbol": "square"}, name=verdict,
                                 text=[s or "" for _, s in picked]))
    fig.update_layout(showlegend=False)  # the y axis names the verdicts; a legend would cover the dates
    return _layout(fig, "Drift checks over time", height=220)


def latency(lat: LatencySeries) -> go.Figure:
    fig = go.Figure()
    for name in PERCENTILES:
        fig.add_trace(go.Scatter(x=lat.times, y=getattr(lat, name), mode="lines+markers", name=name,
                                 line={"color": PERCENTILES[name]}, marker={"size": 4}))
    return _layout(fig, "Pull latency", "ms")


def outcomes(rows: Sequence[dict]) -> go.Figure:
    fig = go.Figure()
    for outcome, color in OUTCOME.items():
        picked = [r for r in rows if r["outcome"] == outcome]
        fig.add_trace(go.Bar(x=[r["bucket"] for r in picked], y=[r["pulls"] for r in picked], name=outcome,
                             marker_color=color))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Pull outcomes", "pulls")
