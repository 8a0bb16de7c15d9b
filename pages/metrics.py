"""Metrics: pull latency percentiles and outcomes, breaker, scheduler, store and machine."""

import streamlit as st

from monitoring.views.ops import breaker_state, machine
from ui import charts, queries, session, widgets

monitor = session.monitor()
session.actor()

st.title("Metrics")
span = widgets.time_range(monitor, "metrics")

schedule = queries.schedule(monitor)
breaker = breaker_state(monitor)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Breaker", breaker or ("no endpoint" if monitor.config.demo_mode else "not used yet"))
c2.metric("Last run (UTC)", widgets.short(schedule.get("last_run_at")))
c3.metric("Next run (UTC)", widgets.short(schedule.get("next_run_at")))
c4.metric("Last success (UTC)", widgets.short(schedule.get("last_success_at")))
if schedule.get("last_error"):
    st.error(f"The last cycle failed: {schedule['last_error']}")

latency = queries.pull_latency(monitor, span)
if latency.times and not monitor.config.demo_mode:
    st.plotly_chart(charts.latency(latency), width="stretch", key="metrics_latency")
else:
    st.caption("No endpoint pulls with a latency in this range" +
               (" (demo mode: simulated pulls take no time)." if monitor.config.demo_mode else "."))
outcomes = queries.outcomes(monitor, span)
if outcomes:
    st.plotly_chart(charts.outcomes(outcomes), width="stretch", key="metrics_outcomes")
    total = sum(r["pulls"] for r in outcomes)
    rates = {o: sum(r["pulls"] for r in outcomes if r["outcome"] == o) / total for o in charts.OUTCOME}
    st.caption(" · ".join(f"{o}: {rate:.1%}" for o, rate in rates.items()))

st.subheader("Store")
facts = queries.store_facts(monitor)
s1, s2, s3, s4 = st.columns(4)
s1.metric("Database size", f"{facts.size_mb:,.1f} MB")
s2.metric("Rows", f"{sum(facts.rows.values()):,}")
s3.metric("Quarantined rows", f"{facts.rejected:,}")
s4.metric("Pulls", f"{facts.pulls:,}")
st.caption("Rows by source: " + (", ".join(f"{k}: {v:,}" for k, v in facts.rows.items()) or "none"))

st.subheader("Machine")
m = machine(monitor)
m1, m2, m3, m4 = st.columns(4)
m1.metric("CPU", f"{m['cpu_percent']:.0f}%")
m2.metric("Memory", f"{m['memory_percent']:.0f}%")
m3.metric("This process", f"{m['process_rss_mb']:,.0f} MB")
m4.metric("Data disk free", f"{m['disk_free_gb']:,.1f} GB")

st.subheader("Timings")
timings = [{**r, "unit": "ms" if r["metric"].endswith("_ms") else "rows", "mean": round(r["mean"], 1),
            "p95": round(r["p95"], 1), "max": round(r["max"], 1)} for r in queries.op_summary(monitor, span)]
widgets.table(timings, "No operational metrics recorded in this range.", key="metrics_summary")
