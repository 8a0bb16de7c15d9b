"""Drift references are versioned with one active per field; alert episodes are unique."""

from __future__ import annotations

import pytest

from monitoring.errors import StoreError
from monitoring.store import Alerts, DriftStore, Store


def test_references_are_versioned_and_one_is_active(store: Store) -> None:
    with store.transaction() as conn:
        drift = DriftStore(conn)
        first = drift.add_reference("a", 1, "system", 0, 10, 100, "azure_ml", {"m": 1})
        drift.put_state("a", first.id, 10, {"cusum": 1.5})
        second = drift.add_reference("a", 2, "admin", 20, 30, 200, "azure_ml", {"m": 2}, "rebaseline")
    with store.read() as conn:
        drift = DriftStore(conn)
        assert (first.version, second.version) == (1, 2)
        assert drift.active_reference("a").model == {"m": 2}
        assert [r.status for r in drift.references("a")] == ["active", "retired"]
        assert drift.state("a") is None  # a new reference starts a fresh detector


def test_checked_through_is_the_later_of_the_state_and_the_active_references_end(store: Store) -> None:
    with store.transaction() as conn:
        drift = DriftStore(conn)
        assert drift.checked_through("a") is None  # no reference yet
        ref = drift.add_reference("a", 1, "system", 0, 10, 100, "azure_ml", {})
        assert drift.checked_through("a") == 10  # nothing checked: carry on after the reference
        drift.put_state("a", ref.id, 50, {"cusum": 1.0})
        assert drift.checked_through("a") == 50
        newer = drift.add_reference("a", 2, "admin", 20, 80, 200, "azure_ml", {}, "rebaseline")
        drift.put_state("a", newer.id, 60, {})  # a state older than the reference's end
        assert drift.checked_through("a") == 80
        assert drift.checked_through("b") is None


def test_drift_runs_round_trip(store: Store) -> None:
    with store.transaction() as conn:
        drift = DriftStore(conn)
        ref = drift.add_reference("a", 1, "system", 0, 10, 100, "azure_ml", {})
        drift.add_run(5, "a", ref.id, "ok", True, "warning", None, {"methods": []})
        drift.add_run(6, "a", None, "skipped", False, None, "reference needs 7 days", {})
    with store.read() as conn:
        runs = DriftStore(conn).runs("a", 0, 10)
        latest = DriftStore(conn).latest_run("a")
    assert [r.status for r in runs] == ["ok", "skipped"]
    assert latest.reason == "reference needs 7 days"


def test_only_one_unresolved_episode_per_fingerprint(store: Store) -> None:
    with store.transaction() as conn:
        Alerts(conn).create("drift:a:drift", "drift", "a", "drift", "warning", "t", 1, {})
    with pytest.raises(StoreError), store.transaction() as conn:
        Alerts(conn).create("drift:a:drift", "drift", "a", "drift", "warning", "t", 2, {})
    with store.transaction() as conn:
        alert = Alerts(conn).open_episode("drift:a:drift")
        Alerts(conn).set_status(alert.id, "resolved", 3)
        Alerts(conn).create("drift:a:drift", "drift", "a", "drift", "critical", "t", 4, {})
    with store.read() as conn:
        assert Alerts(conn).counts() == {"open": 1, "resolved": 1}


def test_operational_alerts_have_no_field(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction() as conn:
        Alerts(conn).create("ops:x", "operational", "a", "breaker_open", "warning", "t", 1, {})
    with store.transaction() as conn:
        Alerts(conn).create("ops:x", "operational", None, "breaker_open", "warning", "t", 1, {})
