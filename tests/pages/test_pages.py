"""Every page as admin and as analyst through AppTest: renders, and analysts cannot write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.errors import PermissionDeniedError
from monitoring.store import Alerts, Audit, DriftStore
from monitoring.timeutil import from_ms
from tests.pages.conftest import PAGES, open_page
from tests.support.hourly import store_hourly
from ui import queries

TITLES = {"pages/alerts.py": "Alerts", "pages/history.py": "History", "pages/drift.py": "Drift",
          "pages/metrics.py": "Metrics", "pages/settings.py": "Settings"}
WRITE_WIDGETS = ("text_input", "text_area", "number_input", "toggle", "checkbox", "date_input",
                 "time_input", "radio", "slider", "select_slider", "color_picker")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_every_page_renders_for_both_roles(request: pytest.FixtureRequest, page: str, role: str) -> None:
    at: AppTest = request.getfixturevalue(f"as_{role}")
    open_page(at, page)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLES[page]]
    assert not at.error, [e.value for e in at.error]


def test_analyst_gets_no_writable_control_on_settings(as_analyst: AppTest) -> None:
    at = open_page(as_analyst, "pages/settings.py")
    assert "read-only" in at.info[0].value
    for kind in WRITE_WIDGETS:
        assert not at.main.get(kind), kind
    assert not at.main.button and not at.main.selectbox and not at.main.multiselect
    assert at.dataframe  # the values and the audit log are shown


def test_settings_write_by_an_analyst_is_refused_by_the_service(page_monitor: Monitor) -> None:
    with pytest.raises(PermissionDeniedError, match="only admins"):
        page_monitor.settings.update(Actor("ann", "analyst"), {"false_alarms_per_30d": 5})
    with pytest.raises(PermissionDeniedError):
        page_monitor.users.add(Actor("ann", "analyst"), "mallory", "admin", "a-long-password")
    assert page_monitor.settings.effective()["false_alarms_per_30d"] == 1.0


def test_admin_changes_a_threshold_and_the_audit_row_shows_it(as_admin: AppTest,
                                                              page_monitor: Monitor) -> None:
    at = open_page(as_admin, "pages/settings.py")
    at.number_input(key="setting_false_alarms_per_30d").set_value(2.5)
    at.button(key="FormSubmitter:settings_form-Save").click().run()
    assert not at.exception
    assert any("false_alarms_per_30d" in s.value for s in at.success)
    assert page_monitor.settings.effective()["false_alarms_per_30d"] == 2.5
    with page_monitor.store.read() as conn:
        entry = Audit(conn).recent(1)[0]
    assert (entry.actor, entry.action, entry.target, entry.old_value, entry.new_value) == (
        "admin", "settings.update", "false_alarms_per_30d", "1.0", "2.5")


def test_invalid_settings_get_one_clear_message_and_nothing_is_saved(as_admin: AppTest,
                                                                    page_monitor: Monitor) -> None:
    at = open_page(as_admin, "pages/settings.py")
    at.text_area(key="setting_threshold_overrides").input("{not json")
    at.text_input(key="setting_monitored_fields").input("ok_field, bad field!")
    at.button(key="FormSubmitter:settings_form-Save").click().run()
    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert "Threshold overrides: not valid JSON" in message
    with page_monitor.store.read() as conn:
        assert not Audit(conn).recent(5, "settings.")


def test_acknowledging_an_alert_records_who_and_the_comment(as_analyst: AppTest,
                                                            page_monitor: Monitor) -> None:
    at = as_analyst
    with page_monitor.store.read() as conn:
        alert = Alerts(conn).search(("open",), ("critical",))[0]
    at.selectbox(key="alert_pick").set_value(alert.id).run()
    at.text_area(key="alert_comment").input("looking into it")
    at.button(key=f"FormSubmitter:alert_action_{alert.id}-Acknowledge").click().run()
    assert not at.exception
    with page_monitor.store.read() as conn:
        events = Alerts(conn).events(alert.id)
        assert Alerts(conn).get(alert.id).status == "acknowledged"
    assert (events[-1].actor, events[-1].action, events[-1].comment) == ("ann", "acknowledged",
                                                                         "looking into it")


def test_history_shows_the_quarantined_row_with_its_reason(as_admin: AppTest) -> None:
    at = open_page(as_admin, "pages/history.py")
    frames = [d.value for d in at.dataframe]
    reasons = [r for f in frames if "reason" in f.columns for r in f["reason"]]
    assert any("archived_gb_predicted" in r for r in reasons), reasons


def test_drift_page_shows_every_method_with_a_verdict(as_admin: AppTest) -> None:
    at = open_page(as_admin, "pages/drift.py")
    methods = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert len(methods) == 9
    assert set(methods["verdict"]) <= {"drifted", "stable", "skipped"}
    assert set(methods["verdict"]) & {"drifted", "stable"}  # the seeded store has real checks


def test_drift_page_says_when_a_field_is_catching_up(as_admin: AppTest, page_monitor: Monitor) -> None:
    at = open_page(as_admin, "pages/drift.py")
    assert not [i for i in at.info if "Catching up" in i.value]
    with page_monitor.store.read() as conn:
        last = DriftStore(conn).state("archived_gb_predicted")[1]
    store_hourly(page_monitor, "archived_gb_predicted", from_ms(last) + timedelta(hours=1), [500.0])
    queries.after_write()  # the page's cache would show the pull after its TTL
    at = open_page(as_admin, "pages/drift.py")
    (note,) = [i.value for i in at.info if "Catching up" in i.value]
    assert "run-once --catch-up" in note


def test_admin_sets_a_webhook_write_only_and_sends_a_test(as_admin: AppTest, page_monitor: Monitor) -> None:
    from tests.fakes.webhook_receiver import WebhookReceiver

    with WebhookReceiver() as hook:
        at = open_page(as_admin, "pages/settings.py")
        at.text_input(key="setting_notify_slack_webhook_url").input(hook.url)
        at.button(key="FormSubmitter:settings_form-Save").click().run()
        assert not at.exception and page_monitor.settings.effective()["notify_slack_webhook_url"] == hook.url
        at.button(key="notify_test_slack").click().run()
        assert any("accepted the test message" in s.value for s in at.success)
        assert len(hook.wait_for(1)) == 1
        shown = " ".join(str(e.value) for e in (*at.text_input, *at.caption, *at.success, *at.markdown))
        frames = " ".join(d.value.to_csv() for d in at.dataframe)
        assert hook.url not in shown and hook.url not in frames  # write-only, shown masked
        at.checkbox(key="setting_notify_slack_webhook_url_clear").check()
        at.button(key="FormSubmitter:settings_form-Save").click().run()
        assert page_monitor.settings.effective()["notify_slack_webhook_url"] == ""


def test_a_notification_link_opens_the_alert(app: AppTest, page_monitor: Monitor) -> None:
    from tests.pages.conftest import login

    with page_monitor.store.read() as conn:
        alert = Alerts(conn).search(("open",), ("critical",))[0]
    page_monitor.alerts.acknowledge(Actor("admin", "admin"), alert.id, "seen")
    app.query_params["alert"] = str(alert.id)
    at = login(app, "admin", "admin-pass-for-pages")
    assert at.segmented_control(key="alerts_view").value == "acknowledged"
    assert at.selectbox(key="alert_pick").value == alert.id


def test_metrics_page_lists_the_recorded_timings_per_metric_and_label(as_analyst: AppTest) -> None:
    at = open_page(as_analyst, "pages/metrics.py")
    frames = [d.value for d in at.dataframe if "metric" in d.value.columns]
    assert len(frames) == 1
    timings = frames[0]
    assert {"metric", "label", "samples", "mean", "p95", "max", "unit"} <= set(timings.columns)
    assert {"cycle_ms", "cycle_rows_stored", "drift_check_ms"} <= set(timings["metric"])
    drift = timings[timings["metric"] == "drift_check_ms"]
    assert set(drift["label"]) >= {"archived_gb_predicted", "confidence_interval"}  # one row per field
    assert (timings["p95"] <= timings["max"]).all() and (timings["samples"] > 0).all()
