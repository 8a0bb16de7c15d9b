"""Pulls, rejected rows, settings + audit, users, metrics, runtime state and lease."""

from __future__ import annotations

from monitoring.store import (
    Audit,
    Metrics,
    PullRecord,
    Pulls,
    Rejected,
    Rejection,
    RuntimeState,
    Settings,
    Store,
    Users,
)

INJECTION = "x'); DROP TABLE pulls; --"


def test_pulls_record_outcomes_and_failure_streaks(store: Store) -> None:
    outcomes = ["ok", "failed", "fallback", "ok", "failed", "fallback", "failed"]
    with store.transaction() as conn:
        for i, outcome in enumerate(outcomes):
            source = "mock" if outcome == "fallback" else "azure_ml"
            Pulls(conn).add(PullRecord(i, i * 1000, i * 1000 + 5, "scheduled", source, outcome,
                                       latency_ms=10.0 + i, attempts=1 + i % 3, error=None))
    with store.read() as conn:
        pulls = Pulls(conn)
        assert pulls.consecutive_failures() == 3
        assert pulls.latest().outcome == "failed"
        assert [p.outcome for p in pulls.recent(0, 10_000)] == list(reversed(outcomes))
        counts = dict(((o, n) for _, o, n in pulls.outcome_counts(0, 10_000, 10_000)))
        assert counts == {"ok": 2, "failed": 3, "fallback": 2}
        assert pulls.last_success_at() == 3005


def test_rejected_rows_keep_reason_and_dedupe(store: Store) -> None:
    with store.transaction() as conn:
        pull_id = Pulls(conn).add(PullRecord(0, 0, 1, "manual", "azure_ml", "partial"))
        batch = [Rejection("slot#1", "field 'a' is missing", '{"b": 1}', "a"),
                 Rejection("slot#2", "field 'a' must be a finite number, got nan", "{}", "a")]
        assert Rejected(conn).add(pull_id, "azure_ml", 5, batch) == 2
        assert Rejected(conn).add(pull_id, "azure_ml", 6, batch) == 0
    with store.read() as conn:
        rows = Rejected(conn).recent(0, 10)
    assert {r["reason"] for r in rows} == {"field 'a' is missing",
                                           "field 'a' must be a finite number, got nan"}
    assert all(r["field"] == "a" for r in rows)


def test_settings_and_audit(store: Store) -> None:
    with store.transaction() as conn:
        Settings(conn).put("pull_interval_minutes", 30, 1, "admin")
        Settings(conn).put("pull_interval_minutes", 15, 2, "admin")
        Audit(conn).add(2, "admin", "settings.update", "pull_interval_minutes", 30, 15)
    with store.read() as conn:
        assert Settings(conn).get("pull_interval_minutes") == 15
        (entry,) = Audit(conn).recent()
    assert (entry.actor, entry.target, entry.old_value, entry.new_value) == (
        "admin", "pull_interval_minutes", "30", "15")


def test_users_lockout_counters_and_session_versions(store: Store) -> None:
    with store.transaction() as conn:
        users = Users(conn)
        users.add("Alice", "Alice A.", "hash", "analyst", 1)
        for _ in range(4):
            users.record_failure("alice", 5, 999, 2)
        assert users.get("alice").locked_until is None
        users.record_failure("alice", 5, 999, 3)
        locked = users.get("ALICE")
        assert locked.locked_until == 999 and locked.failed_attempts == 0
        users.set_password("alice", "hash2", 10)
        fresh = users.get("alice")
    assert fresh.locked_until is None
    assert fresh.session_version == locked.session_version + 1
    assert fresh.sessions_valid_from == 10


def test_metrics_and_retention(store: Store) -> None:
    with store.transaction() as conn:
        Metrics(conn).add_many([(i, "pull_latency_ms", float(i), "") for i in range(10)])
        Metrics(conn).add(5, "cycle_ms", 3.0)
    with store.read() as conn:
        summary = {name: (count, mean) for name, _, count, mean, _, _ in Metrics(conn).summary(0, 100)}
        assert summary == {"cycle_ms": (1, 3.0), "pull_latency_ms": (10, 4.5)}
    with store.transaction() as conn:
        assert Metrics(conn).delete_before(5) == 5


def test_lease_gives_each_slot_to_one_holder(store: Store) -> None:
    with store.transaction() as conn:
        lease = RuntimeState(conn)
        assert lease.claim_slot("pull", "a", 100, now=100, ttl_ms=50)
        assert not lease.claim_slot("pull", "b", 100, now=101, ttl_ms=50)
        lease.finish_slot("pull", "a", 100)
        assert not lease.claim_slot("pull", "b", 100, now=1_000, ttl_ms=50)
        assert lease.claim_slot("pull", "b", 200, now=200, ttl_ms=50)
        # b crashes without finishing: after the ttl the slot may be retried by another holder
        assert not lease.claim_slot("pull", "a", 200, now=220, ttl_ms=50)
        assert lease.claim_slot("pull", "a", 200, now=260, ttl_ms=50)
        lease.put("scheduler", {"last_run_at": 5}, 5)
        assert lease.get("scheduler") == {"last_run_at": 5}


def test_injection_strings_are_stored_literally(store: Store) -> None:
    with store.transaction() as conn:
        pull_id = Pulls(conn).add(PullRecord(0, 0, 1, "manual", "azure_ml", "failed",
                                             error=INJECTION, cycle_id=INJECTION))
        Rejected(conn).add(pull_id, "azure_ml", 1, [Rejection(INJECTION, INJECTION, INJECTION,
                                                              INJECTION)])
        Settings(conn).put(INJECTION, INJECTION, 1, INJECTION)
        Audit(conn).add(1, INJECTION, INJECTION, INJECTION, INJECTION, INJECTION)
        Users(conn).add("eve", INJECTION, INJECTION, "analyst", 1, INJECTION)
        Metrics(conn).add(1, INJECTION, 1.0, INJECTION)
        RuntimeState(conn).put(INJECTION, INJECTION, 1)
    with store.read() as conn:
        assert Pulls(conn).get(pull_id).error == INJECTION
        assert Rejected(conn).recent(0, 10)[0]["raw"] == INJECTION
        assert Settings(conn).get(INJECTION) == INJECTION
        assert Audit(conn).recent()[0].actor == INJECTION
        assert Users(conn).get("eve").display_name == INJECTION
        assert Metrics(conn).names() == [INJECTION]
        assert RuntimeState(conn).get(INJECTION) == INJECTION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "pulls" in tables
