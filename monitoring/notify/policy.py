"""Which alert changes become outbox rows; runs inside the transaction that made the change.

``apply_signals`` calls ``enqueue_changes`` with its own connection, so the alert change
and its notifications commit together: a rolled-back check leaves no row, and a
committed one has its rows even if the process dies before delivery.

What is notified, per configured channel:
- ``opened`` and ``escalated`` when the alert's severity is at or above
  ``min_severity_to_notify`` (an alert opened below it and escalated above it is
  announced by its escalation), unless the alert is snoozed;
- ``resolved`` (auto-resolution after K clean checks) only to channels that were told
  about the alert, so nobody gets an all-clear for something they never heard of.

The cycle sets a ``notification_scope``: backfill and replay cycles are muted (they
rebuild history, they are not news), and demo-mode drift alerts say the data is simulated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitoring.notify.channels import SEVERITY_RANK, configured, read_settings
from monitoring.notify.formatters import FORMATTERS, notice_for
from monitoring.store import Alert, Alerts, Connection, Outbox

if TYPE_CHECKING:
    from monitoring.alerts import Changes

MUTED_KINDS = ("backfill", "replay")


@dataclass(frozen=True)
class Scope:
    muted: bool = False
    simulated: bool = False


_UNSCOPED = Scope()
_scope: ContextVar[Scope | None] = ContextVar("notification_scope", default=None)


@contextmanager
def notification_scope(*, muted: bool = False, simulated: bool = False) -> Iterator[Scope]:
    """Mute notifications or label them simulated for every alert change inside the block."""
    scope = Scope(muted, simulated)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def cycle_scope(kind: str, demo_mode: bool) -> AbstractContextManager[Scope]:
    """The scope of one pipeline cycle of ``kind``."""
    return notification_scope(muted=kind in MUTED_KINDS, simulated=demo_mode)


def _previous_severity(alerts: Alerts, alert_id: int) -> str | None:
    for event in reversed(alerts.events(alert_id)):
        if event.action == "escalated" and event.details:
            return event.details.get("from")
    return None


def _targets(outbox: Outbox, event: str, alert: Alert, at: int, floor: int,
             channels: dict[str, str]) -> list[str]:
    if event == "resolved":
        told = outbox.notified_channels(alert.id)
        return [c for c in channels if c in told]
    if SEVERITY_RANK.get(alert.severity, 0) < floor:
        return []
    if alert.snoozed_until is not None and alert.snoozed_until > at:
        return []
    return list(channels)


def enqueue_changes(conn: Connection, changes: Changes, at: int) -> list[int]:
    """Write the outbox rows for ``changes`` (made at ``at``) on ``conn``; returns the new row ids."""
    scope = _scope.get() or _UNSCOPED
    if scope.muted or not changes.any:
        return []
    settings = read_settings(conn)
    channels = configured(settings)
    if not settings["notify_enabled"] or not channels:
        return []
    floor = SEVERITY_RANK[settings["min_severity_to_notify"]]
    outbox, alerts = Outbox(conn), Alerts(conn)
    added: list[int] = []
    for event, changed in (("opened", changes.opened), ("escalated", changes.escalated),
                           ("resolved", changes.resolved)):
        for alert in changed:
            targets = _targets(outbox, event, alert, at, floor, channels)
            if not targets:
                continue
            previous = _previous_severity(alerts, alert.id) if event == "escalated" else None
            notice = notice_for(event, alert, at, previous_severity=previous,
                                simulated=scope.simulated, dashboard_url=settings["dashboard_url"])
            for channel in targets:
                row_id = outbox.add(alert.id, event, at, channel, FORMATTERS[channel](notice), at)
                if row_id is not None:
                    added.append(row_id)
    return added
