"""Alerts: open, acknowledged and resolved episodes; detail, history and actions."""

import streamlit as st

from monitoring.errors import MonitoringError
from monitoring.store.alerts import SEVERITIES
from monitoring.timeutil import from_ms
from monitoring.views.alerts import event_rows
from ui import charts, queries, session, widgets

monitor = session.monitor()
actor = session.actor()

st.title("Alerts")
counts = queries.alert_counts(monitor)
linked = st.query_params.get("alert", "")  # notifications link to /alerts?alert=<id>
linked_id = int(linked) if linked.isdigit() else None
linked_alert = queries.alert_detail(monitor, linked_id, ()) if linked_id else None
start_view = linked_alert.alert.status if linked_alert else "open"
view = st.segmented_control("View", list(counts), default=start_view, key="alerts_view",
                            format_func=lambda v: f"{v.capitalize()} ({counts[v]})") or "open"
left, right, snoozed = st.columns([2, 2, 1])
severities = left.multiselect("Severity", SEVERITIES, default=list(SEVERITIES), key="alerts_severity")
fields = queries.monitored_fields(monitor)
field = right.selectbox("Field", ["all fields", *fields], key="alerts_field")
show_snoozed = snoozed.toggle("Show snoozed", value=True, key="alerts_snoozed")


def _act(action: str, alert_id: int, comment: str, hours: float) -> None:
    service = monitor.alerts
    try:
        if action == "acknowledge":
            service.acknowledge(actor, alert_id, comment)
        elif action == "resolve":
            service.resolve(actor, alert_id, comment)
        else:
            service.snooze(actor, alert_id, hours, comment)
    except MonitoringError as exc:
        st.session_state["alerts_message"] = ("error", str(exc))
    else:
        st.session_state["alerts_message"] = ("success", f"Alert #{alert_id}: {action}d.")
    queries.after_write()


@st.fragment(run_every=60)
def alert_list() -> None:
    """Refreshes itself every minute, so an open page shows new alerts without a reload."""
    rows = queries.list_alerts(monitor, view, tuple(severities),
                               None if field == "all fields" else field, show_snoozed)
    widgets.table(rows, f"No {view} alerts match these filters.", key="alerts_table")
    if not rows:
        return
    by_id = {r["id"]: r for r in rows}
    ids = list(by_id)
    chosen = st.selectbox("Alert detail", ids, key="alert_pick",
                          index=ids.index(linked_id) if linked_id in by_id else 0,
                          format_func=lambda i: f"#{i} · {by_id[i]['severity']} · {by_id[i]['title']}")
    detail = queries.alert_detail(monitor, chosen, monitor.analysis_sources)
    if detail is None:
        st.warning("This alert no longer exists.")
        return
    a = detail.alert
    st.subheader(f"#{a.id} {a.title}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Severity", a.severity)
    c2.metric("Status", a.status)
    c3.metric("Checks flagged", a.occurrences)
    c4.metric("Opened (UTC)", widgets.short(from_ms(a.opened_at)))
    if a.details.get("methods"):
        st.caption("Flagged by: " + ", ".join(a.details["methods"]))
    if detail.series:
        st.plotly_chart(charts.alert(detail), width="stretch", key="alert_chart")
    st.markdown("**Event history**")
    widgets.table(event_rows(detail.events), "No events.", key="alert_events")
    if a.status == "resolved":
        return
    with st.form(f"alert_action_{a.id}", clear_on_submit=True):
        comment = st.text_area("Comment", max_chars=2000, key="alert_comment",
                               placeholder="What you found or did (kept in the event history)")
        hours = st.number_input("Snooze for (hours)", min_value=0.25, max_value=720.0, value=24.0,
                                step=1.0, key="alert_snooze_hours")
        b1, b2, b3 = st.columns(3)
        ack = b1.form_submit_button("Acknowledge", disabled=a.status == "acknowledged")
        res = b2.form_submit_button("Resolve")
        snz = b3.form_submit_button("Snooze")
    action = "acknowledge" if ack else "resolve" if res else "snooze" if snz else None
    if action:
        _act(action, a.id, comment, hours)
        st.rerun(scope="app")


message = st.session_state.pop("alerts_message", None)
if message:
    (st.error if message[0] == "error" else st.success)(message[1])
alert_list()
