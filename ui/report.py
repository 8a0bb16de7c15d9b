"""The drift page's HTML report: the same figures and verdicts, in one standalone file."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go

from monitoring.views.drift import DriftOverview, MethodRow


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _methods_table(rows: Sequence[MethodRow]) -> str:
    head = ("<tr><th>Method</th><th>Kind</th><th>Statistic</th><th>Threshold</th><th>Direction</th>"
            "<th>Verdict</th><th>Effect</th><th>Severity</th><th>Note</th></tr>")
    body = "".join(
        f"<tr class='{r.verdict}'><td>{html.escape(r.display_name)}</td><td>{r.kind}</td>"
        f"<td>{_fmt(r.statistic)}</td><td>{_fmt(r.threshold)}</td>"
        f"<td>{'higher = drift' if r.higher_means_drift else 'lower = drift (p-value)'}</td>"
        f"<td><b>{r.verdict}</b></td><td>{_fmt(r.effect_size)}</td><td>{r.severity or ''}</td>"
        f"<td>{html.escape(r.note)}</td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


def build(view: DriftOverview, figures: Sequence[go.Figure], generated: datetime) -> bytes:
    """A self-contained HTML page (plotly's script embedded once; works offline)."""
    verdict = ("skipped: " + (view.reason or "") if view.status != "ok"
               else f"DRIFTED ({view.severity})" if view.drifted else "stable")
    ref = view.reference
    ref_text = (f"v{ref.version}, {ref.span.start:%Y-%m-%d %H:%M} to {ref.span.end:%Y-%m-%d %H:%M} UTC, "
                f"{ref.rows:,} rows, frozen by {html.escape(ref.created_by)}" if ref else "not yet frozen")
    charts = "".join(fig.to_html(full_html=False, include_plotlyjs=(i == 0))
                     for i, fig in enumerate(figures))
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Drift report: {html.escape(view.field)}</title>
<style>body{{font-family:sans-serif;margin:2em;color:#1f2328}} table{{border-collapse:collapse}}
td,th{{border:1px solid #d0d7de;padding:4px 8px;text-align:left}} tr.drifted td{{background:#ffebe9}}
tr.skipped td{{color:#8c959f}}</style></head><body>
<h1>Drift report: {html.escape(view.field)}</h1>
<p>Generated {generated:%Y-%m-%d %H:%M} UTC. Last check:
{view.checked_at.strftime('%Y-%m-%d %H:%M UTC') if view.checked_at else 'none'}.
Verdict: <b>{html.escape(verdict)}</b>.</p>
<p>Reference: {ref_text}.</p>
<h2>Methods</h2>{_methods_table(view.methods)}
<h2>Charts</h2>{charts}
</body></html>"""
    return page.encode("utf-8")
