"""Fixtures for notifications: loopback webhook receivers and alerts made the real way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitoring.actors import Actor
from monitoring.alerts import Changes, Signal, apply_signals, drift_fingerprint
from monitoring.context import Monitor
from monitoring.store import Outbox, OutboxRow
from monitoring.timeutil import to_ms
from tests.fakes.webhook_receiver import WebhookReceiver

ADMIN = Actor("admin", "admin")
FIELD = "archived_gb_predicted"


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def configure(monitor: Monitor, **settings: object) -> None:
    """Save settings as an admin would (validated and audited)."""
    monitor.settings.update(ADMIN, settings)


def drift_signal(firing: bool = True, severity: str = "warning", kind: str = "drift") -> Signal:
    return Signal(drift_fingerprint(FIELD, kind), "drift", kind, firing, severity,
                  f"Distribution changed: {FIELD}", FIELD, {"methods": ["ks", "psi"]})


def check(monitor: Monitor, *signals: Signal, resolve_after: int = 2) -> Changes:
    """One check at the monitor's current time, committed like the detector's."""
    with monitor.store.transaction() as conn:
        return apply_signals(conn, signals, to_ms(monitor.clock()), resolve_after)


def outbox_rows(monitor: Monitor) -> list[OutboxRow]:
    with monitor.store.read() as conn:
        return list(reversed(Outbox(conn).recent(1000)))
