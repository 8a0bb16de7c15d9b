"""Settings: admins edit (validated, audited, backtested first); analysts read."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from monitoring.errors import MonitoringError
from monitoring.settings import SPECS
from monitoring.store import Audit
from monitoring.timeutil import from_ms
from ui import queries, session, settings_form, widgets

monitor = session.monitor()
actor = session.actor()
current = monitor.settings.effective()
groups: dict = {}
for spec in SPECS:
    groups.setdefault(spec.group, []).append(spec)

st.title("Settings")
message = st.session_state.pop("settings_message", None)
if message:
    (st.error if message[0] == "error" else st.success)(message[1])


def _done(kind: str, text: str) -> None:
    st.session_state["settings_message"] = (kind, text)
    queries.after_write()
    st.rerun()


def _audit_log() -> None:
    with monitor.store.read() as conn:
        entries = Audit(conn).recent(200)
    widgets.table([{"when": from_ms(e.at), "who": e.actor, "action": e.action, "target": e.target,
                    "old": e.old_value or "", "new": e.new_value or ""} for e in entries],
                  "No changes recorded yet.", key="settings_audit")


if not actor.is_admin:
    st.info("You are an analyst: settings are read-only. Ask an admin to change them.")
    for name, specs in groups.items():
        st.subheader(name)
        widgets.table([{"setting": s.label, "value": settings_form.shown(s, current[s.key])} for s in specs],
                      "", key=f"settings_read_{name}")
    st.subheader("Audit log")
    _audit_log()
    st.stop()

tab_settings, tab_baseline, tab_users, tab_notify, tab_audit = st.tabs(
    ["Thresholds and options", "Baseline", "Users", "Notifications", "Audit log"])
with tab_settings, st.form("settings_form"):
    edited = {}
    for name, specs in groups.items():
        st.subheader(name)
        columns = st.columns(2)
        for i, spec in enumerate(specs):
            with columns[i % 2]:
                edited[spec.key] = settings_form.widget(spec, current[spec.key])
    days = st.number_input("Backtest over the last N days", min_value=7, max_value=120, value=30,
                           key="backtest_days")
    b1, b2 = st.columns(2)
    run_backtest = b1.form_submit_button("Backtest these settings")
    save = b2.form_submit_button("Save", type="primary")

with tab_settings:
    if run_backtest or save:
        try:
            changes = settings_form.changes(list(SPECS), edited, current)
            monitor.settings.validate(changes)
        except MonitoringError as exc:
            st.error(str(exc))
            changes = None
        if changes is not None and run_backtest:
            from monitoring.backtest import backtest

            with st.spinner("Replaying stored data with the current and the edited settings..."):
                try:
                    result = backtest(monitor, changes, float(days))
                except MonitoringError as exc:
                    st.error(str(exc))
                else:
                    k1, k2 = st.columns(2)
                    k1.metric("Alert episodes, current settings", result.current.episodes)
                    k2.metric("Alert episodes, edited settings", result.proposed.episodes,
                              delta=result.proposed.episodes - result.current.episodes,
                              delta_color="inverse")
                    st.caption(result.note)
                    widgets.table([{"field/kind": k, "current": result.current.by_kind.get(k, 0),
                                    "edited": result.proposed.by_kind.get(k, 0)}
                                   for k in sorted({*result.current.by_kind, *result.proposed.by_kind})],
                                  "Neither would have raised a drift alert.", key="backtest_table")
                    st.caption("Nothing is saved until you press Save.")
        elif changes is not None and save:
            if not changes:
                st.info("Nothing changed.")
            else:
                try:
                    changed = monitor.settings.update(actor, changes)
                except MonitoringError as exc:
                    st.error(str(exc))
                else:
                    for spec in SPECS:  # a saved secret must not stay in the browser's widget state
                        if spec.secret:
                            st.session_state.pop(f"setting_{spec.key}", None)
                            st.session_state.pop(f"setting_{spec.key}_clear", None)
                    _done("success", "Saved: " + ", ".join(changed) + " (audited).")

with tab_baseline:
    st.write("The drift reference of a field is frozen from its first rows. Re-baseline it from a date "
             "range when the current behaviour is the new normal; the change is versioned and audited.")
    field = st.selectbox("Field", list(current["monitored_fields"]), key="baseline_field")
    refs = queries.references(monitor, field)
    widgets.table([{"version": r.version, "from": r.span.start, "to": r.span.end, "rows": r.rows,
                    "frozen by": r.created_by, "at": r.created_at, "note": r.note or ""} for r in refs],
                  "No reference frozen yet.", key="baseline_versions")
    with st.form("baseline_form"):
        today = monitor.clock().date()
        picked = st.date_input("Date range (UTC, inclusive)", value=(today - timedelta(days=14),
                                                                     today - timedelta(days=7)),
                               key="baseline_dates")
        note = st.text_input("Why", key="baseline_note", placeholder="e.g. new model version deployed")
        rebase = st.form_submit_button("Re-baseline", type="primary")
    if rebase:
        if not isinstance(picked, tuple) or len(picked) != 2:
            st.error("Pick a start and an end date.")
        else:
            from monitoring.baseline import rebaseline

            start = datetime.combine(picked[0], time.min, UTC)
            end = datetime.combine(picked[1], time.min, UTC) + timedelta(days=1)
            try:
                record = rebaseline(monitor, actor, field, start, end, note or None)
            except MonitoringError as exc:
                st.error(str(exc))
            else:
                _done("success", f"{field}: reference v{record.version} frozen from {record.n_rows:,} rows.")

with tab_users:
    users = monitor.users.list()
    widgets.table([{"user": u.username, "name": u.display_name, "role": u.role,
                    "state": "disabled" if u.disabled else "active",
                    "locked until": from_ms(u.locked_until) if u.locked_until else None} for u in users],
                  "No users.", key="users_table")
    add, manage = st.columns(2)
    with add, st.form("user_add", clear_on_submit=True):
        st.markdown("**Add a user**")
        name = st.text_input("Username", key="user_add_name")
        role = st.selectbox("Role", ["analyst", "admin"], key="user_add_role")
        password = st.text_input("Password", type="password", key="user_add_password")
        if st.form_submit_button("Add user"):
            try:
                monitor.users.add(actor, name, role, password)
            except MonitoringError as exc:
                st.error(str(exc))
            else:
                _done("success", f"Added {name.strip().lower()} ({role}).")
    with manage, st.form("user_manage", clear_on_submit=True):
        st.markdown("**Change a user**")
        who = st.selectbox("User", [u.username for u in users], key="user_manage_name")
        action = st.selectbox("Action", ["unlock", "disable", "enable", "reset password", "make analyst",
                                         "make admin"], key="user_manage_action")
        new_password = st.text_input("New password (for reset)", type="password", key="user_manage_password")
        if st.form_submit_button("Apply"):
            service = monitor.users
            try:
                if action == "unlock":
                    service.unlock(actor, who)
                elif action in ("disable", "enable"):
                    service.set_disabled(actor, who, action == "disable")
                elif action == "reset password":
                    service.reset_password(actor, who, new_password)
                else:
                    service.set_role(actor, who, action.split()[-1])
            except MonitoringError as exc:
                st.error(str(exc))
            else:
                _done("success", f"{who}: {action} done (audited; their sessions end where needed).")

with tab_notify:
    from monitoring.notify.service import NotificationService

    notifier = NotificationService(monitor)
    try:
        st.write("Alerts at or above the 'Notify at or above' severity go to every configured channel. "
                 "URLs are write-only: set them under Thresholds and options.")
        channels = notifier.channels()
        widgets.table([{"channel": c.label, "URL": c.shown} for c in channels], "", key="notify_channels")
        cols = st.columns(len(channels))
        for col, channel in zip(cols, channels, strict=True):
            if col.button(f"Send a test to {channel.label}", key=f"notify_test_{channel.channel}",
                          disabled=not channel.configured):
                try:
                    result = notifier.send_test(actor, channel.channel)
                except MonitoringError as exc:
                    st.error(str(exc))
                else:
                    (st.success if result.ok else st.error)(result.message)
        summary = notifier.outbox(50)
        st.caption("Outbox: " + (", ".join(f"{k}: {v}" for k, v in sorted(summary.counts.items()))
                                 or "empty"))
        widgets.table([{"created": from_ms(r.created_at), "alert": r.alert_id, "event": r.event,
                        "channel": r.channel, "status": r.status, "attempts": r.attempts,
                        "delivered": from_ms(r.delivered_at) if r.delivered_at else None,
                        "last error": r.last_error or ""} for r in summary.recent],
                      "Nothing has been queued yet.", key="notify_outbox")
        if summary.counts.get("failed") and st.button("Retry failed notifications", key="notify_retry"):
            _done("success", f"{notifier.retry_failed(actor)} notification(s) queued again.")
    finally:
        notifier.close()

with tab_audit:
    _audit_log()
