"""Deliver due outbox rows after the commit, with persisted retries and backoff.

A pass claims one row at a time (``Outbox.claim_next``: one more attempt, the row
hidden for ``CLAIM_LEASE_MS``) in a short write transaction, posts it with the
``X-Monitor-Delivery`` header, then records the outcome in a second transaction:
delivered only after a 2xx; a transient failure (connection error, timeout, 408, 429,
5xx) waits ``backoff_seconds(attempts)`` (or the receiver's Retry-After, if longer); a
permanent one (other 4xx, a redirect, a channel that is no longer configured) or the
last allowed attempt marks the row failed, with a log line. Because the claim commits
before the POST, two threads or processes never send the same row at the same time.

Crash between send and mark: the receiver may have the message while the row still
says pending. When the claim lease ends, the row is due again and is sent again with
the *same* delivery id. Delivery is therefore at-least-once, and exactly-once for any
receiver that drops a delivery id it has already seen (the generic webhook contract).
Slack and Teams ignore the header, so there a duplicate can appear, but only if the
process dies inside that window of one request. Recording "sent" before sending would
turn that into a lost alert instead, which is the worse failure for a monitor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from monitoring.context import Monitor
from monitoring.errors import MonitoringError
from monitoring.notify.channels import configured
from monitoring.notify.sender import SendResult, WebhookSender
from monitoring.store import Metrics, Outbox, OutboxRow
from monitoring.timeutil import to_ms

log = logging.getLogger(__name__)

CLAIM_LEASE_MS = 120_000  # longer than one POST can take (connect + read timeouts, one retry)
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
MAX_ROWS_PER_PASS = 200


def backoff_seconds(attempts: int) -> float:
    """30 s, 1 min, 2 min, ... capped at an hour: waits after the ``attempts``-th failure."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def delivery_id(row: OutboxRow) -> str:
    """Stable across retries and restarts; unique even if a restored backup reuses row ids."""
    return f"{row.id}.{row.alert_id}.{row.event}.{row.event_at}"


@dataclass
class PassReport:
    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Delivery:
    """Runs delivery passes for one monitor; safe to run from several threads and processes."""

    def __init__(self, monitor: Monitor, sender: WebhookSender | None = None) -> None:
        self.monitor = monitor
        self.sender = sender or WebhookSender()

    def run(self) -> PassReport:
        """Send every due row (up to a cap); never raises, so a scheduler job cannot die of it."""
        report = PassReport()
        try:
            settings = self.monitor.settings.effective()
            if not settings["notify_enabled"]:
                return report  # switched off: rows wait, nothing is lost
            channels = configured(settings)
            max_attempts = int(settings["notify_max_attempts"])
            for _ in range(MAX_ROWS_PER_PASS):
                if self.monitor.stopping.is_set():
                    break
                with self.monitor.store.transaction() as conn:
                    row = Outbox(conn).claim_next(to_ms(self.monitor.clock()), CLAIM_LEASE_MS)
                if row is None:
                    break
                self._deliver(row, channels.get(row.channel), max_attempts, report)
        except MonitoringError as exc:
            report.errors.append(str(exc))
            log.error("notification delivery stopped; queued rows are retried on the next pass: %s", exc)
        return report

    def _deliver(self, row: OutboxRow, url: str | None, max_attempts: int, report: PassReport) -> None:
        started = time.perf_counter()
        if url is None:
            result = SendResult(False, False, None, f"the {row.channel} channel is no longer configured")
        else:
            result = self.sender.send(url, row.payload, delivery_id(row))
        elapsed_ms = (time.perf_counter() - started) * 1000
        now = to_ms(self.monitor.clock())
        what = f"notification {row.id} ({row.event} of alert {row.alert_id}) to {row.channel}"
        with self.monitor.store.transaction() as conn:
            outbox = Outbox(conn)
            if result.ok:
                outbox.mark_delivered(row.id, now, result.status or 0)
                outcome = "delivered"
                report.delivered.append(row.id)
                log.info("delivered %s", what, extra={"attempt": row.attempts})
            elif result.retry and row.attempts < max_attempts:
                wait = max(backoff_seconds(row.attempts), min(result.retry_after or 0.0, BACKOFF_CAP_SECONDS))
                outbox.retry_at(row.id, now + int(wait * 1000), result.status, result.error or "")
                outcome = "retry"
                report.retrying.append(row.id)
                log.warning("%s failed (attempt %d of %d); retrying in %.0f s: %s", what, row.attempts,
                            max_attempts, wait, result.error)
            else:
                outbox.mark_failed(row.id, result.status, result.error or "")
                outcome = "failed"
                report.failed.append(row.id)
                log.error("gave up on %s after %d attempt(s): %s", what, row.attempts, result.error)
            Metrics(conn).add(now, "notify_ms", elapsed_ms, f"{row.channel} {outcome}")

    def close(self) -> None:
        self.sender.close()


def deliver_now(monitor: Monitor) -> PassReport:
    """One pass with a sender of its own (for callers without a scheduler, e.g. ``run-once``)."""
    delivery = Delivery(monitor)
    try:
        return delivery.run()
    finally:
        delivery.close()
