"""What the settings page calls: channel status, a test send, the outbox's state, re-queue.

Admins only for anything that sends or changes; every such action is audited. Nothing
here returns a webhook URL: channels are shown masked (``monitoring.notify.urls.masked``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from monitoring.actors import Actor, require_admin
from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.notify.channels import CHANNEL_LABELS, CHANNEL_SETTINGS, check_channel
from monitoring.notify.formatters import ping_payload
from monitoring.notify.sender import WebhookSender
from monitoring.notify.urls import check_webhook_url, masked
from monitoring.store import Audit, Outbox, OutboxRow
from monitoring.timeutil import to_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    label: str
    setting: str
    configured: bool
    shown: str  # "configured (host, …abcd)" or "not set"


@dataclass(frozen=True)
class SendTestResult:
    ok: bool
    message: str
    status: int | None = None


@dataclass(frozen=True)
class OutboxSummary:
    counts: dict[str, int]
    recent: list[OutboxRow]


class NotificationService:
    """Channel status, test sends and the outbox view for one monitor."""

    def __init__(self, monitor: Monitor, sender: WebhookSender | None = None) -> None:
        self.monitor = monitor
        self.sender = sender or WebhookSender()

    def channels(self) -> list[ChannelStatus]:
        settings = self.monitor.settings.effective()
        return [ChannelStatus(channel, CHANNEL_LABELS[channel], key, bool(settings[key]),
                              masked(settings[key])) for channel, key in CHANNEL_SETTINGS.items()]

    def send_test(self, actor: Actor, channel: str, url: str | None = None) -> SendTestResult:
        """Post a test message to ``channel`` (its saved URL, or ``url`` to try one before saving)."""
        require_admin(actor, "send test notifications")
        check_channel(channel)
        settings = self.monitor.settings.effective()
        target = (url or "").strip() or settings[CHANNEL_SETTINGS[channel]]
        if not target:
            raise ValidationError(f"{CHANNEL_LABELS[channel]} has no webhook URL; save one first")
        try:
            check_webhook_url(target)
        except ValidationError as exc:
            raise ValidationError(f"{CHANNEL_LABELS[channel]} webhook URL {exc}") from exc
        result = self.sender.send(target, ping_payload(channel, settings["dashboard_url"]),
                                  f"test.{uuid.uuid4().hex[:12]}")
        if result.ok:
            outcome = SendTestResult(True, f"{CHANNEL_LABELS[channel]} accepted the test message "
                                       f"(HTTP {result.status}).", result.status)
        else:
            outcome = SendTestResult(False, f"{CHANNEL_LABELS[channel]} did not accept the test message: "
                                        f"{result.error}. Check the URL, then try again.", result.status)
        with self.monitor.store.transaction() as conn:
            Audit(conn).add(to_ms(self.monitor.clock()), actor.username, "notify.test", channel,
                            None, {"ok": outcome.ok, "status": outcome.status,
                                   "unsaved_url": bool(url)})
        log.info("test notification to %s: %s", channel, "ok" if outcome.ok else "failed",
                 extra={"actor": actor.username, "http_status": outcome.status})
        return outcome

    def outbox(self, limit: int = 50) -> OutboxSummary:
        with self.monitor.store.read() as conn:
            outbox = Outbox(conn)
            return OutboxSummary(outbox.counts(), outbox.recent(limit))

    def retry_failed(self, actor: Actor, channel: str | None = None) -> int:
        """Give failed notifications a fresh set of attempts (e.g. after fixing a URL); audited."""
        require_admin(actor, "re-send notifications")
        if channel is not None:
            check_channel(channel)
        now = to_ms(self.monitor.clock())
        with self.monitor.store.transaction() as conn:
            count = Outbox(conn).requeue_failed(now, channel)
            Audit(conn).add(now, actor.username, "notify.requeue", channel or "all", None, count)
        return count

    def close(self) -> None:
        self.sender.close()
