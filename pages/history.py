"""History: each field over time, the quarantine, the pulls, and a CSV export."""

import streamlit as st

from monitoring.views.history import export_csv
from ui import charts, queries, session, widgets

monitor = session.monitor()
session.actor()

st.title("History")
fields = queries.monitored_fields(monitor)
if not fields:
    st.info("No predictions stored yet; the first pull runs at start-up.")
    st.stop()
left, right = st.columns([1, 2])
field = left.selectbox("Field", fields, key="history_field")
with right:
    span = widgets.time_range(monitor, "history")
sources = widgets.source_filter(monitor, "history")

points = queries.series(monitor, field, span, sources)
if points:
    st.plotly_chart(charts.series(points, field, f"{field}: mean per {span.bucket_ms() // 3_600_000} h "
                                                 "with ±1 sd band, min and max"),
                    width="stretch", key="history_chart")
    st.caption(f"{sum(p.n for p in points):,} rows in {len(points)} points.")
else:
    st.info(f"No {field} rows from the chosen sources in this range.")

quarantine, pulls, export = st.tabs(["Quarantined rows", "Pulls", "Export"])
with quarantine:
    widgets.table(queries.rejected(monitor, span), "No rows were quarantined in this range.",
                  key="history_rejected")
with pulls:
    widgets.table(queries.pulls(monitor, span), "No pulls in this range.", key="history_pulls")
with export:
    st.write("Every stored row of the chosen sources in the range, as CSV (UTC times).")
    st.download_button("Download CSV", data=lambda: export_csv(monitor, span, sources),
                       file_name=f"predictions_{span.start:%Y%m%d}_{span.end:%Y%m%d}.csv",
                       mime="text/csv", key="history_download", on_click="ignore")
