"""Drift: per field, reference against current, every method's verdict, trend and CUSUM."""

from datetime import timedelta

import streamlit as st

from monitoring.views.common import TimeRange
from ui import charts, queries, report, session, widgets

monitor = session.monitor()
session.actor()

st.title("Drift")
fields = list(monitor.settings.effective()["monitored_fields"])
left, right = st.columns([1, 2])
field = left.selectbox("Field", fields, key="drift_field")
history_days = right.segmented_control("History", [7, 14, 30], default=14, key="drift_days",
                                       format_func=lambda d: f"{d} days") or 14

view = queries.drift_overview(monitor, field)
ref = view.reference
c1, c2, c3 = st.columns(3)
if view.status == "ok":
    c1.metric("Verdict", f"Drifted ({view.severity})" if view.drifted else "Stable")
else:
    c1.metric("Verdict", "Not checked")
    st.info(f"The check is skipped: {view.reason}")
c2.metric("Last check (UTC)", widgets.short(view.checked_at))
if view.unchecked_from:
    st.info(f"Catching up: checked through {widgets.stamp(view.checked_through)}; the pulls from "
            f"{widgets.stamp(view.unchecked_from)} on are checked right after each pull cycle, in bounded "
            "passes (`python -m monitoring run-once --catch-up` does it all from a shell).")
c3.metric("Reference", f"v{ref.version} · {ref.rows:,} rows" if ref else "not frozen yet")
if ref:
    st.caption(f"Reference: {widgets.stamp(ref.span.start)} to {widgets.stamp(ref.span.end)}, frozen by "
               f"{ref.created_by} at {widgets.stamp(ref.created_at)}"
               + (f" ({ref.note})" if ref.note else "") + ". Admins can re-baseline on the settings page.")

figures = []
if ref and view.window:
    dist = queries.distributions(monitor, field, ref, view.window, monitor.analysis_sources)
    if dist:
        figures.append(charts.distributions(dist, field))
if view.methods:
    figures.append(charts.methods(view.methods))
if view.trend_times:
    figures.append(charts.trend(view))
end = widgets.ceil_minute(monitor.clock())
history = queries.run_history(monitor, field, TimeRange(end - timedelta(days=history_days), end))
if history.times:
    figures.append(charts.cusum(history, view.change_started_at))
    figures.append(charts.verdicts(history))

for i, fig in enumerate(figures):
    st.plotly_chart(fig, width="stretch", key=f"drift_fig_{i}")
if view.change_started_at:
    st.caption(f"CUSUM estimates the change began at {widgets.stamp(view.change_started_at)}.")

if view.methods:
    st.subheader("Methods")
    widgets.table([{"method": m.display_name, "kind": m.kind, "statistic": m.statistic,
                    "threshold": m.threshold,
                    "direction": "higher = drift" if m.higher_means_drift else "p-value: lower = drift",
                    "verdict": m.verdict, "effect size": m.effect_size, "severity": m.severity or "",
                    "note": m.note} for m in view.methods], "No methods ran.", key="drift_methods")
    st.download_button("Download HTML report", key="drift_report", on_click="ignore",
                       data=lambda: report.build(view, figures, monitor.clock()),
                       file_name=f"drift_{field}_{monitor.clock():%Y%m%d_%H%M}.html", mime="text/html")
