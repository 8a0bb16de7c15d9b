"""What the settings page calls: write-only webhook settings, masked display, test sends."""

from __future__ import annotations

import io
import json
import logging
from urllib.parse import urlsplit

import pytest

from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.errors import PermissionDeniedError, ValidationError
from monitoring.notify.service import NotificationService
from monitoring.store import Audit
from monitoring.telemetry import JsonFormatter
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.monitoring.notify.conftest import ADMIN, check, configure, drift_signal
from tests.support import secret_scan

ANALYST = Actor("ann", "analyst")
SLACK_LIKE = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"
secret_scan.register(SLACK_LIKE, urlsplit(SLACK_LIKE).path)


@pytest.fixture
def service(monitor: Monitor):
    svc = NotificationService(monitor)
    yield svc
    svc.close()


@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.slack.com/services/x", "must be an https:// URL"),
    ("ftp://example.com/hook", "must be an https:// URL"),
    ("https://user:pw@example.com/hook", "user name or password"),
    ("https:///nohost", "must be an https:// URL"),
    ("https://example.com/a b", "spaces"),
])
def test_webhook_urls_are_validated_without_echoing_them(monitor: Monitor, url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        configure(monitor, notify_slack_webhook_url=url)
    assert url not in str(caught.value)
    assert monitor.settings.effective()["notify_slack_webhook_url"] == ""


def test_https_anywhere_and_plain_http_only_on_loopback_are_accepted(monitor: Monitor) -> None:
    for url in (SLACK_LIKE, "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9/x"):
        configure(monitor, notify_webhook_url=url)
        assert monitor.settings.effective()["notify_webhook_url"] == url
    configure(monitor, notify_webhook_url="")  # clearing is allowed
    with pytest.raises(ValidationError, match="Dashboard address .*https:// address"):
        configure(monitor, dashboard_url="monitor.example.com")


def test_display_masks_secrets_and_the_audit_never_holds_them(monitor: Monitor) -> None:
    configure(monitor, notify_slack_webhook_url=SLACK_LIKE, dashboard_url="https://mon.example.com")
    shown = monitor.settings.display()
    assert shown["notify_slack_webhook_url"] == "configured (hooks.slack.com, …uvwx)"
    assert shown["notify_teams_webhook_url"] == "not set"
    assert shown["dashboard_url"] == "https://mon.example.com"  # not a secret
    assert SLACK_LIKE not in json.dumps(shown)
    with monitor.store.read() as conn:
        entries = Audit(conn).recent(action_prefix="settings.")
    slack = [e for e in entries if e.target == "notify_slack_webhook_url"]
    assert [(e.old_value, e.new_value) for e in slack] == [('"***"', '"***"')]
    assert all("abcdefghij" not in (e.new_value or "") for e in entries)


def test_a_form_echoing_the_masked_value_keeps_the_secret(monitor: Monitor) -> None:
    configure(monitor, notify_slack_webhook_url=SLACK_LIKE)
    changed = monitor.settings.update(ADMIN, monitor.settings.display())
    assert changed == {}
    assert monitor.settings.effective()["notify_slack_webhook_url"] == SLACK_LIKE


def test_a_configured_url_is_masked_in_every_log_line(monitor: Monitor) -> None:
    configure(monitor, notify_teams_webhook_url=SLACK_LIKE)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.notify.leak")
    logger.addHandler(handler)
    try:
        logger.warning("posting to %s failed", SLACK_LIKE)
        logger.warning("requests said: Max retries exceeded with url: %s", urlsplit(SLACK_LIKE).path)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "abcdefghijklmnopqrstuvwx" not in written and written.count("***") == 2


def test_channel_status_never_returns_a_url(monitor: Monitor, service: NotificationService,
                                            hook: WebhookReceiver) -> None:
    configure(monitor, notify_teams_webhook_url=hook.url)
    status = {c.channel: c for c in service.channels()}
    assert (status["teams"].configured, status["slack"].configured) == (True, False)
    assert status["teams"].shown.startswith("configured (127.0.0.1, …")
    assert hook.token not in repr(service.channels())


@pytest.mark.parametrize("channel", ["webhook", "slack", "teams"])
def test_send_test_posts_a_test_message_and_is_audited(monitor: Monitor, service: NotificationService,
                                                       hook: WebhookReceiver, channel: str) -> None:
    configure(monitor, **{f"notify_{'' if channel == 'webhook' else channel + '_'}webhook_url": hook.url})
    result = service.send_test(ADMIN, channel)
    assert result.ok and result.status == 200 and "accepted the test message" in result.message
    (received,) = hook.received
    assert received.delivery_id.startswith("test.")
    body = received.json()
    assert "Test notification" in json.dumps(body)
    with monitor.store.read() as conn:
        (entry,) = Audit(conn).recent(action_prefix="notify.")
    assert (entry.actor, entry.action, entry.target) == ("admin", "notify.test", channel)
    assert hook.token not in (entry.new_value or "")


def test_send_test_reports_a_failure_in_words_and_can_try_an_unsaved_url(
        monitor: Monitor, service: NotificationService, hook: WebhookReceiver) -> None:
    with pytest.raises(ValidationError, match="no webhook URL"):
        service.send_test(ADMIN, "slack")
    hook.enqueue(403)
    result = service.send_test(ADMIN, "slack", url=hook.url)
    assert not result.ok and result.status == 403
    assert "did not accept the test message: HTTP 403" in result.message
    assert hook.token not in result.message
    assert service.send_test(ADMIN, "slack", url=hook.url).ok
    assert monitor.settings.effective()["notify_slack_webhook_url"] == ""  # trying is not saving
    with pytest.raises(ValidationError, match="https"):
        service.send_test(ADMIN, "slack", url="http://example.com/x")
    with pytest.raises(ValidationError, match="not a notification channel"):
        service.send_test(ADMIN, "email")


def test_analysts_cannot_send_tests_or_requeue(service: NotificationService) -> None:
    with pytest.raises(PermissionDeniedError):
        service.send_test(ANALYST, "slack")
    with pytest.raises(PermissionDeniedError):
        service.retry_failed(ANALYST)


def test_outbox_view_and_requeue_after_fixing_a_url(monitor: Monitor, service: NotificationService,
                                                    hook: WebhookReceiver) -> None:
    from monitoring.notify.delivery import deliver_now

    configure(monitor, notify_webhook_url=hook.url)
    hook.enqueue(410)  # the receiver says: gone
    check(monitor, drift_signal())
    deliver_now(monitor)
    summary = service.outbox()
    assert summary.counts == {"pending": 0, "delivered": 0, "failed": 1}
    assert summary.recent[0].last_error.startswith("HTTP 410")
    assert service.retry_failed(ADMIN, "webhook") == 1
    assert deliver_now(monitor).delivered == [summary.recent[0].id]
    assert service.outbox().counts["delivered"] == 1
