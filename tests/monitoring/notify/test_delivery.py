"""Delivery over real HTTP to a loopback receiver: shapes, retries, outages, restarts, crashes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.notify.delivery import CLAIM_LEASE_MS, Delivery, PassReport, delivery_id
from monitoring.notify.sender import WebhookSender
from monitoring.store import Outbox, OutboxRow
from monitoring.telemetry import JsonFormatter
from monitoring.timeutil import iso, to_ms
from tests.fakes.webhook_receiver import Received, WebhookReceiver
from tests.monitoring.notify.conftest import check, configure, drift_signal, outbox_rows
from tests.support import secret_scan

ROOT = Path(__file__).resolve().parents[3]
CHANNEL_KEYS = {"webhook": "notify_webhook_url", "slack": "notify_slack_webhook_url",
                "teams": "notify_teams_webhook_url"}


def deliver(monitor: Monitor, sender: WebhookSender | None = None) -> PassReport:
    delivery = Delivery(monitor, sender)
    try:
        return delivery.run()
    finally:
        delivery.close()


def row(monitor: Monitor, row_id: int) -> OutboxRow:
    with monitor.store.read() as conn:
        found = Outbox(conn).get(row_id)
    assert found is not None
    return found


@pytest.fixture
def webhook(monitor: Monitor, hook: WebhookReceiver) -> WebhookReceiver:
    configure(monitor, notify_webhook_url=hook.url)
    return hook


def _shape(channel: str, received: Received) -> None:
    body = received.json()
    if channel == "slack":
        assert body["text"].startswith("Warning alert: Distribution changed: archived_gb_predicted")
        kinds = [b["type"] for b in body["blocks"]]
        assert kinds == ["header", "section", "section", "actions", "context"]
        facts = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in body["blocks"][2]["fields"]}
        assert facts["*Severity*"] == "Warning" and facts["*Field*"] == "archived_gb_predicted"
        assert facts["*Detected by*"] == "Kolmogorov-Smirnov, Population Stability Index"
        assert body["blocks"][3]["elements"][0]["url"].startswith("https://monitor.example.com/alerts?alert=")
    elif channel == "teams":
        assert body["type"] == "message"
        (attachment,) = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard" and card["body"][0]["text"].startswith("Warning alert")
        assert {"title": "Opened", "value": "2026-01-05 00:00 UTC"} in card["body"][2]["facts"]
        assert card["actions"][0]["type"] == "Action.OpenUrl"
    else:
        assert body["event"] == "opened" and body["source"] == "prediction-monitor"
        assert body["alert"]["severity"] == "warning" and body["alert"]["methods"] == ["ks", "psi"]
        assert body["alert"]["opened_at"] == "2026-01-05T00:00:00Z"
        assert body["url"].startswith("https://monitor.example.com/alerts?alert=")


@pytest.mark.parametrize("channel", ["webhook", "slack", "teams"])
def test_each_channel_receives_its_own_payload_once_with_a_delivery_id(
        monitor: Monitor, hook: WebhookReceiver, channel: str) -> None:
    configure(monitor, **{CHANNEL_KEYS[channel]: hook.url}, dashboard_url="https://monitor.example.com")
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    report = deliver(monitor)
    (received,) = hook.received
    assert report.delivered == [queued.id]
    assert received.delivery_id == delivery_id(queued)
    assert received.headers["content-type"].startswith("application/json")
    _shape(channel, received)
    done = row(monitor, queued.id)
    assert (done.status, done.attempts, done.last_status) == ("delivered", 1, 200)
    assert done.delivered_at == to_ms(monitor.clock())
    assert deliver(monitor).delivered == [] and len(hook.received) == 1  # never again


def test_a_receiver_that_fails_first_gets_a_retry_and_exactly_one_delivery(
        monitor: Monitor, webhook: WebhookReceiver, clock) -> None:
    webhook.enqueue(500)
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    assert deliver(monitor).retrying == [queued.id]
    waiting = row(monitor, queued.id)
    assert (waiting.status, waiting.attempts, waiting.last_status) == ("pending", 1, 500)
    assert waiting.next_attempt_at == to_ms(clock()) + 30_000
    assert "HTTP 500" in waiting.last_error
    assert deliver(monitor).delivered == []  # backing off: not yet
    clock.advance(seconds=30)
    assert deliver(monitor).delivered == [queued.id]
    assert [r.status for r in webhook.received] == [500, 200]
    assert webhook.delivery_ids() == [delivery_id(queued)] * 2
    assert webhook.processed == [delivery_id(queued)]
    assert row(monitor, queued.id).attempts == 2


def test_a_receiver_that_is_down_for_a_while_gets_the_row_when_it_is_back(
        monitor: Monitor, webhook: WebhookReceiver, clock) -> None:
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    webhook.stop()
    waits = []
    for _ in range(3):  # down: 30 s, 60 s, 120 s between attempts
        start = to_ms(clock())
        assert deliver(monitor).retrying == [queued.id]
        waits.append(row(monitor, queued.id).next_attempt_at - start)
        clock.advance(milliseconds=waits[-1] - 1)
        assert deliver(monitor) == PassReport()  # one ms early: untouched
        clock.advance(milliseconds=1)
    assert waits == [30_000, 60_000, 120_000]
    pending = row(monitor, queued.id)
    assert (pending.status, pending.attempts, pending.last_status) == ("pending", 3, None)
    assert "ConnectionError" in pending.last_error
    webhook.start()  # back, on the same address
    assert deliver(monitor).delivered == [queued.id]
    assert webhook.delivery_ids() == [delivery_id(queued)]


def test_after_the_last_attempt_the_row_fails_with_a_log_line(
        monitor: Monitor, webhook: WebhookReceiver, clock, caplog) -> None:
    configure(monitor, notify_max_attempts=3)
    webhook.default = type(webhook.default)(503)
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    with caplog.at_level(logging.WARNING, logger="monitoring.notify.delivery"):
        for _ in range(5):
            deliver(monitor)
            clock.advance(hours=1)
    failed = row(monitor, queued.id)
    assert (failed.status, failed.attempts, failed.last_status) == ("failed", 3, 503)
    assert len(webhook.received) == 3
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line.startswith(f"gave up on notification {queued.id} (opened of alert")
    assert "after 3 attempt(s): HTTP 503" in line


@pytest.mark.parametrize(("status", "words"), [(400, "HTTP 400"), (301, "redirects")])
def test_a_refusal_or_a_redirect_fails_at_once(monitor: Monitor, webhook: WebhookReceiver,
                                              status: int, words: str) -> None:
    webhook.enqueue(status, headers={"Location": "https://elsewhere.example/"} if status == 301 else None)
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    assert deliver(monitor).failed == [queued.id]
    assert words in row(monitor, queued.id).last_error
    assert len(webhook.received) == 1


def test_retry_after_from_the_receiver_is_honoured(monitor: Monitor, webhook: WebhookReceiver,
                                                   clock) -> None:
    webhook.enqueue(429, headers={"Retry-After": "600"})
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    deliver(monitor)
    assert row(monitor, queued.id).next_attempt_at == to_ms(clock()) + 600_000


def test_a_channel_removed_before_delivery_fails_its_rows_without_sending(
        monitor: Monitor, webhook: WebhookReceiver) -> None:
    check(monitor, drift_signal())
    configure(monitor, notify_webhook_url="")
    (queued,) = outbox_rows(monitor)
    assert deliver(monitor).failed == [queued.id]
    assert "no longer configured" in row(monitor, queued.id).last_error
    assert webhook.received == []


def test_turned_off_means_queued_rows_wait(monitor: Monitor, webhook: WebhookReceiver) -> None:
    check(monitor, drift_signal())
    configure(monitor, notify_enabled=False)
    assert deliver(monitor) == PassReport() and webhook.received == []
    configure(monitor, notify_enabled=True)
    assert len(deliver(monitor).delivered) == 1


def test_resolved_never_overtakes_opened_on_a_channel(monitor: Monitor, webhook: WebhookReceiver,
                                                     clock) -> None:
    webhook.enqueue(502)
    check(monitor, drift_signal())
    for _ in range(2):
        clock.advance(minutes=1)
        check(monitor, drift_signal(firing=False))
    opened, resolved = outbox_rows(monitor)
    assert (opened.event, resolved.event) == ("opened", "resolved")
    report = deliver(monitor)
    assert report.retrying == [opened.id] and report.delivered == []  # resolved waits behind it
    clock.advance(seconds=30)
    assert deliver(monitor).delivered == [opened.id, resolved.id]
    assert [r.json()["event"] for r in webhook.received] == ["opened", "opened", "resolved"]


def test_a_slow_receiver_times_out_and_is_retried(monitor: Monitor, webhook: WebhookReceiver,
                                                  clock) -> None:
    webhook.enqueue(200, delay=1.0)
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    assert deliver(monitor, WebhookSender(timeout=(1.0, 0.2))).retrying == [queued.id]
    assert "Timeout" in row(monitor, queued.id).last_error
    clock.advance(seconds=30)
    assert deliver(monitor).delivered == [queued.id]
    assert webhook.delivery_ids() == [delivery_id(queued)] * 2  # one id: the receiver can drop the repeat


def test_concurrent_passes_send_every_row_exactly_once(monitor: Monitor, hook: WebhookReceiver) -> None:
    configure(monitor, notify_webhook_url=hook.url, notify_slack_webhook_url=hook.url,
              notify_teams_webhook_url=hook.url)
    for kind in ("drift", "anomaly", "trend"):
        check(monitor, drift_signal(kind=kind))
    queued = outbox_rows(monitor)
    hook.enqueue(200, times=len(queued), delay=0.05)  # slow enough for the passes to overlap
    reports: list[PassReport] = []
    threads = [threading.Thread(target=lambda: reports.append(deliver(monitor))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    ids = hook.delivery_ids()
    assert len(queued) == 9 and sorted(ids) == sorted(delivery_id(r) for r in queued)
    assert sorted(i for r in reports for i in r.delivered) == sorted(r.id for r in queued)


def test_no_duplicate_after_a_restart_on_the_same_store(env: dict[str, str], monitor: Monitor,
                                                        webhook: WebhookReceiver, clock) -> None:
    for kind in ("drift", "anomaly"):
        check(monitor, drift_signal(kind=kind))
    assert len(deliver(monitor).delivered) == 2
    webhook.stop()
    check(monitor, drift_signal(kind="trend"))
    assert len(deliver(monitor).retrying) == 1  # the receiver is down when the process stops
    monitor.close()

    webhook.start()
    clock.advance(minutes=5)
    reopened = open_monitor(load_config(env), clock=clock)
    try:
        assert len(deliver(reopened).delivered) == 1
        assert deliver(reopened) == PassReport()
        rows = outbox_rows(reopened)
    finally:
        reopened.close()
    ids = webhook.delivery_ids()
    assert len(ids) == len(set(ids)) == 3
    assert sorted(ids) == sorted(delivery_id(r) for r in rows)
    assert {r.status for r in rows} == {"delivered"}


def test_a_crash_between_send_and_mark_resends_the_same_delivery_id_once(
        env: dict[str, str], monitor: Monitor, webhook: WebhookReceiver, clock) -> None:
    """The sender process is SIGKILLed after the receiver got the POST, before it could mark it."""
    check(monitor, drift_signal())
    (queued,) = outbox_rows(monitor)
    child: list[subprocess.Popen] = []

    def kill_sender(_: Received) -> None:
        os.kill(child[0].pid, signal.SIGKILL)
        child[0].wait(timeout=30)

    webhook.on_request = kill_sender
    with secret_scan.subprocess_stderr("notify-worker-killed") as stderr:  # the session scan reads it
        child.append(subprocess.Popen(
            [sys.executable, "-m", "tests.support.notify_worker", iso(clock())], cwd=ROOT,
            env={**env, "LOG_LEVEL": "ERROR"}, stdout=subprocess.PIPE, stderr=stderr, text=True))
    assert child[0].stdout.readline().strip() == "ready"
    assert child[0].wait(timeout=60) == -signal.SIGKILL
    child[0].stdout.close()
    webhook.on_request = None
    claimed = row(monitor, queued.id)
    assert (claimed.status, claimed.attempts) == ("pending", 1)  # sent, but never marked
    assert deliver(monitor) == PassReport()  # the dead sender's claim still holds
    clock.advance(milliseconds=CLAIM_LEASE_MS)
    assert deliver(monitor).delivered == [queued.id]
    assert webhook.delivery_ids() == [delivery_id(queued)] * 2
    assert webhook.processed == [delivery_id(queued)]  # acted on once: the id is the dedupe key


def test_errors_and_logs_never_show_the_webhook_url(monitor: Monitor, webhook: WebhookReceiver,
                                                    caplog) -> None:
    check(monitor, drift_signal())
    webhook.stop()  # requests' connection error quotes the URL's path, where the token is
    with caplog.at_level(logging.INFO):
        deliver(monitor)
    (queued,) = outbox_rows(monitor)
    assert queued.last_error and "***" in queued.last_error
    logged = "\n".join(r.getMessage() for r in caplog.records)  # raw records, before any redaction
    assert "retrying in 30 s" in logged
    written = "\n".join(JsonFormatter().format(r) for r in caplog.records)  # what a log file gets
    for text in (queued.last_error, logged, written, str(queued.payload)):
        assert webhook.token not in text and webhook.path not in text
