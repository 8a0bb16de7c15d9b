"""Delivery is wired to the cycle: inline for run-once, on the scheduler's pool in the server."""

from __future__ import annotations

from monitoring.context import Monitor
from monitoring.lifecycle import (
    NOTIFY_EVERY_SECONDS,
    NOTIFY_JOB_ID,
    Background,
    _wire_notifications,
    build_pipeline,
)
from monitoring.scheduler import PullScheduler
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.monitoring.notify.conftest import check, configure, drift_signal, outbox_rows


def test_run_once_delivers_right_after_the_cycle_that_opened_an_alert(
        monitor: Monitor, hook: WebhookReceiver, clock) -> None:
    configure(monitor, notify_webhook_url=hook.url)
    pipeline = build_pipeline(monitor)
    pipeline.run_cycle(clock(), "scheduled")
    clock.advance(hours=3)  # no cycle for three intervals: the scheduler-stale alert opens
    report = pipeline.run_cycle(clock(), "scheduled")
    (alert,) = report.changes.opened
    (received,) = hook.received  # already there when run_cycle returned
    assert received.json()["alert"]["kind"] == "scheduler_stale" == alert.kind
    assert {r.status for r in outbox_rows(monitor)} == {"delivered"}


def test_the_server_delivers_leftovers_at_start_and_wakes_delivery_after_a_cycle(
        monitor: Monitor, hook: WebhookReceiver) -> None:
    configure(monitor, notify_slack_webhook_url=hook.url)
    check(monitor, drift_signal(kind="drift"))  # left in the outbox by a previous process
    pipeline = build_pipeline(monitor)
    scheduler = PullScheduler(monitor, pipeline)
    background = Background(monitor, pipeline, scheduler, health=None)  # type: ignore[arg-type]
    _wire_notifications(background)
    scheduler.start(run_now=False)
    try:
        job = scheduler._scheduler.get_job(NOTIFY_JOB_ID)
        assert job.trigger.interval.total_seconds() == NOTIFY_EVERY_SECONDS and job.max_instances == 2
        hook.wait_for(1, timeout=10)  # the start-up pass: no cycle needed
        changes = check(monitor, drift_signal(kind="anomaly"))
        pipeline.on_changes(changes)  # what run_cycle does after a cycle that changed alerts
        second = hook.wait_for(2, timeout=10)  # well before the next 60 s interval
    finally:
        scheduler.stop(wait=True)
        background.extras["delivery"].close()
    assert [r.json()["blocks"][0]["text"]["text"] for r in second] == [
        "Warning alert: Distribution changed: archived_gb_predicted"] * 2
    assert len(set(hook.delivery_ids())) == 2
