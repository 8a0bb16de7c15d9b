"""What gets enqueued, and that it commits or rolls back with the alert change itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring.alerts import AlertService, Signal, ops_fingerprint
from monitoring.context import Monitor
from monitoring.notify.policy import notification_scope
from monitoring.pipeline import Pipeline
from monitoring.sources import MockSource
from monitoring.store import Alerts
from monitoring.timeutil import to_ms
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.monitoring.notify.conftest import ADMIN, check, configure, drift_signal, outbox_rows


@pytest.fixture
def channels(monitor: Monitor, hook: WebhookReceiver) -> WebhookReceiver:
    configure(monitor, notify_webhook_url=hook.url, notify_slack_webhook_url=hook.url)
    return hook


def test_an_opened_alert_is_enqueued_for_every_configured_channel(monitor: Monitor, channels) -> None:
    changes = check(monitor, drift_signal(severity="warning"))
    rows = outbox_rows(monitor)
    assert [(r.alert_id, r.event, r.channel, r.status) for r in rows] == [
        (changes.opened[0].id, "opened", "webhook", "pending"),
        (changes.opened[0].id, "opened", "slack", "pending")]
    assert rows[0].event_at == to_ms(monitor.clock()) == rows[0].next_attempt_at
    assert rows[0].payload["alert"]["field"] == "archived_gb_predicted"
    assert "blocks" in rows[1].payload


def test_a_rolled_back_check_leaves_no_alert_and_no_outbox_row(monitor: Monitor, channels) -> None:
    with pytest.raises(RuntimeError), monitor.store.transaction() as conn:
        from monitoring.alerts import apply_signals

        assert apply_signals(conn, [drift_signal()], to_ms(monitor.clock()), 2).opened
        raise RuntimeError("the detector state could not be saved")
    assert outbox_rows(monitor) == []
    with monitor.store.read() as conn:
        assert Alerts(conn).unresolved() == []


def test_a_failing_cycle_transaction_writes_neither_the_alert_nor_its_notification(
        monitor: Monitor, channels, clock) -> None:
    """A real cycle (scheduler-stale alert) whose alert transaction fails inside SQLite."""
    pipeline = Pipeline(monitor, MockSource())
    pipeline.run_cycle(clock(), "scheduled")
    with monitor.store.transaction() as conn:
        conn.execute("CREATE TRIGGER outbox_down BEFORE INSERT ON notification_outbox "
                     "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END")
    clock.advance(hours=3)
    report = pipeline.run_cycle(clock(), "scheduled")
    assert any(e.startswith("alerts:") for e in report.errors) and not report.changes.opened
    with monitor.store.read() as conn:
        assert Alerts(conn).unresolved() == []
    assert outbox_rows(monitor) == []
    with monitor.store.transaction() as conn:
        conn.execute("DROP TRIGGER outbox_down")
    clock.advance(hours=3)
    report = pipeline.run_cycle(clock(), "scheduled")
    (alert,) = report.changes.opened
    assert alert.kind == "scheduler_stale" and alert.field is None
    assert {(r.alert_id, r.event) for r in outbox_rows(monitor)} == {(alert.id, "opened")}


def test_severity_filter_escalation_and_resolution(monitor: Monitor, channels, clock) -> None:
    configure(monitor, min_severity_to_notify="warning")
    opened = check(monitor, drift_signal(severity="info")).opened[0]
    assert outbox_rows(monitor) == []  # info is below the threshold
    clock.advance(hours=1)
    assert check(monitor, drift_signal(severity="warning")).escalated
    rows = outbox_rows(monitor)
    assert {(r.event, r.channel) for r in rows} == {("escalated", "webhook"), ("escalated", "slack")}
    assert rows[0].payload["alert"]["previous_severity"] == "info"
    assert "Escalated to warning" in rows[0].payload["headline"]
    for _ in range(2):
        clock.advance(hours=1)
        resolved = check(monitor, drift_signal(firing=False)).resolved
    assert resolved and resolved[0].id == opened.id
    assert [r.event for r in outbox_rows(monitor)].count("resolved") == 2


def test_below_threshold_alerts_are_never_announced_not_even_their_resolution(
        monitor: Monitor, channels, clock) -> None:
    configure(monitor, min_severity_to_notify="critical")
    check(monitor, drift_signal(severity="warning"))
    for _ in range(2):
        clock.advance(hours=1)
        changes = check(monitor, drift_signal(firing=False))
    assert changes.resolved and outbox_rows(monitor) == []


def test_operational_alerts_count_too(monitor: Monitor, channels) -> None:
    signal = Signal(ops_fingerprint("endpoint_failing"), "operational", "endpoint_failing", True,
                    "critical", "Scoring endpoint failing", details={"consecutive_failures": 6})
    check(monitor, signal)
    (row, _) = outbox_rows(monitor)
    assert row.payload["alert"]["category"] == "operational"
    assert "6 in a row" in row.payload["summary"]


def test_a_snoozed_alert_does_not_notify_its_escalation_until_the_snooze_ends(
        monitor: Monitor, channels, clock) -> None:
    configure(monitor, min_severity_to_notify="info")
    alert = check(monitor, drift_signal(severity="info")).opened[0]
    AlertService(monitor.store, clock).snooze(ADMIN, alert.id, 4, "batch job tonight")
    clock.advance(hours=1)
    assert check(monitor, drift_signal(severity="warning")).escalated
    assert [r.event for r in outbox_rows(monitor)] == ["opened", "opened"]
    clock.advance(hours=4)
    assert check(monitor, drift_signal(severity="critical")).escalated
    assert [r.event for r in outbox_rows(monitor)] == ["opened", "opened", "escalated", "escalated"]


def test_nothing_is_enqueued_when_off_unconfigured_or_muted(monitor: Monitor, hook, clock) -> None:
    check(monitor, drift_signal(kind="drift"))  # no channel configured
    configure(monitor, notify_teams_webhook_url=hook.url, notify_enabled=False)
    check(monitor, drift_signal(kind="anomaly"))
    configure(monitor, notify_enabled=True)
    with notification_scope(muted=True):
        check(monitor, drift_signal(kind="trend"))
    assert outbox_rows(monitor) == []
    clock.advance(minutes=5)
    check(monitor, Signal("ops:scheduler_stale", "operational", "scheduler_stale", True, "warning",
                          "Scheduler missed its runs", details={"gap_minutes": 190.0}))
    assert [(r.channel, r.event) for r in outbox_rows(monitor)] == [("teams", "opened")]


class _FlaggingDetector:
    """Stands in for DriftService: flags one field in its own transaction, as DriftService does."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.kind = "drift"

    def run(self, now, settings, budget=None):
        with self.monitor.store.transaction() as conn:
            from monitoring.alerts import apply_signals

            return [], apply_signals(conn, [drift_signal(kind=self.kind)], to_ms(now), 6)


def test_backfill_and_replay_cycles_are_muted_and_demo_drift_is_labelled_simulated(
        monitor: Monitor, hook, clock) -> None:
    configure(monitor, notify_webhook_url=hook.url)
    detector = _FlaggingDetector(monitor)
    pipeline = Pipeline(monitor, MockSource(), detector=detector)
    assert pipeline.run_cycle(clock(), "backfill").changes.opened
    detector.kind = "anomaly"
    assert pipeline.run_cycle(clock() + timedelta(hours=1), "replay").changes.opened
    assert outbox_rows(monitor) == []  # history being rebuilt is not news
    detector.kind = "trend"
    clock.advance(hours=2)
    assert pipeline.run_cycle(clock(), "scheduled").changes.opened
    (row,) = outbox_rows(monitor)
    assert monitor.config.demo_mode and row.payload["simulated"] is True
    assert row.payload["headline"].startswith("[simulated data] Warning alert")
    assert "simulated" in row.payload["summary"]
