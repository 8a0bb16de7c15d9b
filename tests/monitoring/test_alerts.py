"""Alert episodes: dedup, hysteresis, escalation, lifecycle events with who/when/comment."""

from __future__ import annotations

import pytest

from monitoring.actors import Actor
from monitoring.alerts import AlertService, Signal, apply_signals, drift_fingerprint
from monitoring.errors import PermissionDeniedError, ValidationError
from monitoring.store import Alerts, Store

FP = drift_fingerprint("archived_gb_predicted", "drift")


def _signal(firing: bool, severity: str = "warning") -> Signal:
    return Signal(FP, "drift", "drift", firing, severity, "Drift", "archived_gb_predicted",
                  {"methods": ["cusum"]})


def _apply(store: Store, firing: bool, at: int, severity: str = "warning", k: int = 3):
    with store.transaction() as conn:
        return apply_signals(conn, [_signal(firing, severity)], at, k)


def test_repeats_update_one_episode(store: Store) -> None:
    opened = _apply(store, True, 1).opened
    for at in range(2, 6):
        assert not _apply(store, True, at).opened
    with store.read() as conn:
        (alert,) = Alerts(conn).search(("open",))
    assert alert.id == opened[0].id
    assert (alert.opened_at, alert.last_seen_at, alert.occurrences) == (1, 5, 5)


def test_resolves_only_after_k_clean_checks_in_a_row(store: Store) -> None:
    _apply(store, True, 1)
    _apply(store, False, 2)
    _apply(store, False, 3)
    _apply(store, True, 4)  # a flap resets the clean count
    _apply(store, False, 5)
    _apply(store, False, 6)
    assert _apply(store, False, 7).resolved  # the third clean check in a row resolves
    with store.read() as conn:
        (alert,) = Alerts(conn).search(("resolved",))
        actions = [e.action for e in Alerts(conn).events(alert.id)]
    assert alert.resolved_at == 7
    assert actions == ["opened", "auto_resolved"]
    assert _apply(store, True, 8).opened  # a new episode after resolution


def test_escalation_keeps_the_worst_severity(store: Store) -> None:
    _apply(store, True, 1, "info")
    escalated = _apply(store, True, 2, "critical").escalated
    _apply(store, True, 3, "warning")
    with store.read() as conn:
        alert = Alerts(conn).open_episode(FP)
        actions = [e.action for e in Alerts(conn).events(alert.id)]
    assert escalated and alert.severity == "critical"
    assert actions == ["opened", "escalated"]


def test_lifecycle_events_record_who_when_and_comment(store: Store, clock) -> None:
    _apply(store, True, 1)
    service = AlertService(store, clock)
    with store.read() as conn:
        alert_id = Alerts(conn).open_episode(FP).id
    ann = Actor("ann", "analyst")
    service.acknowledge(ann, alert_id, "looking into it")
    snoozed = service.snooze(ann, alert_id, 4, "after the batch run")
    resolved = service.resolve(Actor("admin", "admin"), alert_id, "model retrained")
    events = service.events(alert_id)
    assert [(e.action, e.actor, e.comment) for e in events[1:]] == [
        ("acknowledged", "ann", "looking into it"), ("snoozed", "ann", "after the batch run"),
        ("resolved", "admin", "model retrained")]
    assert all(e.at == int(clock().timestamp() * 1000) for e in events[1:])
    assert snoozed.snoozed_until == int(clock().timestamp() * 1000) + 4 * 3_600_000
    assert resolved.status == "resolved"
    with pytest.raises(ValidationError, match="already resolved"):
        service.acknowledge(ann, alert_id)


def test_unknown_roles_cannot_act(store: Store, clock) -> None:
    _apply(store, True, 1)
    with store.read() as conn:
        alert_id = Alerts(conn).open_episode(FP).id
    with pytest.raises(PermissionDeniedError):
        AlertService(store, clock).acknowledge(Actor("mallory", "guest"), alert_id)
