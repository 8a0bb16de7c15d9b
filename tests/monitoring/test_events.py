"""The event hook: subscribers see every event with the log context; a failing one breaks nothing."""

from __future__ import annotations

import logging

from monitoring import events
from monitoring.telemetry import log_context


def test_subscribers_get_events_with_context_ids_and_numeric_measurements() -> None:
    seen: list[events.Event] = []
    unsubscribe = events.subscribe(seen.append)
    try:
        with log_context(cycle_id="c0ffee"):
            events.emit(events.PULL, {"outcome": "ok"},
                        {"rows_stored": 20, "latency_ms": 12.5, "flag": True, "missing": None})
    finally:
        unsubscribe()
    events.emit(events.PULL, {"outcome": "late"})  # after unsubscribing: not seen
    (event,) = seen
    assert event.name == "pull" and event.properties == {"cycle_id": "c0ffee", "outcome": "ok"}
    assert event.measurements == {"rows_stored": 20.0, "latency_ms": 12.5}


def test_a_failing_subscriber_neither_raises_nor_starves_the_others(caplog) -> None:
    def broken(event: events.Event) -> None:
        raise RuntimeError("sink exploded")

    seen: list[str] = []
    removers = [events.subscribe(broken), events.subscribe(lambda e: seen.append(e.name))]
    try:
        with caplog.at_level(logging.WARNING, logger="monitoring.events"):
            events.emit(events.LOGIN_FAILED, {"reason": "bad_password"})
    finally:
        for remove in removers:
            remove()
    assert seen == ["login_failed"]
    assert any("broken failed on login_failed: RuntimeError" in r.getMessage() for r in caplog.records)


def test_alert_changes_become_one_event_per_alert(monitor, clock) -> None:
    from monitoring.alerts import Signal, apply_signals
    from monitoring.timeutil import to_ms

    with monitor.store.transaction() as conn:
        changes = apply_signals(conn, [Signal("ops:endpoint_failing", "operational", "endpoint_failing",
                                              True, "critical", "Scoring endpoint failing")],
                                to_ms(clock()), 3)
    seen: list[events.Event] = []
    unsubscribe = events.subscribe(seen.append)
    try:
        events.emit_alert_changes(changes)
    finally:
        unsubscribe()
    (opened,) = seen
    assert opened.name == "alert_opened" and opened.properties["kind"] == "endpoint_failing"
    assert opened.properties["severity"] == "critical" and opened.properties["by"] == "system"
