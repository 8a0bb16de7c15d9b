"""The outbox table: migration 2, one row per alert event and channel, claims, FIFO per channel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from monitoring.errors import StoreError
from monitoring.secret import Secret
from monitoring.store import Alerts, Outbox, Store

LEASE = 60_000


def _alert(store: Store, fingerprint: str = "ops:endpoint_failing", at: int = 1_000) -> int:
    with store.transaction() as conn:
        return Alerts(conn).create(fingerprint, "operational", None, "endpoint_failing", "warning",
                                   "Scoring endpoint failing", at, {})


def _add(store: Store, alert_id: int, event: str = "opened", channel: str = "slack",
         at: int = 1_000) -> int | None:
    with store.transaction() as conn:
        return Outbox(conn).add(alert_id, event, at, channel, {"text": event}, at)


def _claim(store: Store, now: int) -> int | None:
    with store.transaction() as conn:
        row = Outbox(conn).claim_next(now, LEASE)
    return row.id if row else None


def test_migration_2_creates_the_outbox_and_upgrades_a_version_1_store(tmp_path: Path,
                                                                       db_key: Secret) -> None:
    store = Store(tmp_path / "m.db", db_key)
    assert store.schema_version() == 2
    with store.transaction() as conn:  # make it a version-1 file again
        conn.execute("DROP TABLE notification_outbox")
        conn.execute("DELETE FROM schema_version WHERE version = 2")
    store.close()
    reopened = Store(tmp_path / "m.db", db_key)
    try:
        assert reopened.schema_version() == 2
        assert _add(reopened, _alert(reopened)) is not None
    finally:
        reopened.close()


def test_the_same_alert_event_is_enqueued_once_per_channel(store: Store) -> None:
    alert_id = _alert(store)
    first = _add(store, alert_id)
    assert first is not None
    assert _add(store, alert_id) is None  # same (alert, event, channel, at): ignored
    assert _add(store, alert_id, channel="teams") is not None
    assert _add(store, alert_id, event="escalated", at=2_000) is not None
    assert _add(store, alert_id, event="escalated", at=3_000) is not None  # a second escalation
    with store.read() as conn:
        assert Outbox(conn).counts() == {"pending": 4, "delivered": 0, "failed": 0}


def test_schema_refuses_unknown_events_channels_and_a_delivered_row_without_a_time(store: Store) -> None:
    alert_id = _alert(store)
    with pytest.raises(StoreError, match="CHECK"), store.transaction() as conn:
        Outbox(conn).add(alert_id, "acknowledged", 1, "slack", {}, 1)
    with pytest.raises(StoreError, match="CHECK"), store.transaction() as conn:
        Outbox(conn).add(alert_id, "opened", 1, "email", {}, 1)
    row_id = _add(store, alert_id)
    with pytest.raises(StoreError, match="CHECK"), store.transaction() as conn:
        conn.execute("UPDATE notification_outbox SET status = 'delivered' WHERE id = ?", (row_id,))
    with pytest.raises(StoreError, match="FOREIGN KEY"), store.transaction() as conn:
        Outbox(conn).add(999, "opened", 1, "slack", {}, 1)


def test_a_claim_counts_an_attempt_and_hides_the_row_for_the_lease(store: Store) -> None:
    row_id = _add(store, _alert(store))
    assert _claim(store, 500) is None  # not due before it was created
    assert _claim(store, 1_000) == row_id
    assert _claim(store, 1_000 + LEASE - 1) is None  # claimed: nobody else takes it
    with store.read() as conn:
        row = Outbox(conn).get(row_id)
    assert (row.attempts, row.next_attempt_at, row.status) == (1, 1_000 + LEASE, "pending")
    assert _claim(store, 1_000 + LEASE) == row_id  # the claimer died: due again after the lease


def test_rows_of_a_channel_go_out_in_order_and_a_blocked_channel_does_not_block_others(store: Store) -> None:
    alert_id = _alert(store)
    opened = _add(store, alert_id, "opened", "slack")
    resolved = _add(store, alert_id, "resolved", "slack", at=1_001)
    teams = _add(store, alert_id, "opened", "teams")
    assert _claim(store, 5_000) == opened
    # slack's head is in flight, so its next row waits; teams is independent
    assert _claim(store, 5_000) == teams
    assert _claim(store, 5_000) is None
    with store.transaction() as conn:
        Outbox(conn).mark_delivered(opened, 5_001, 200)
    assert _claim(store, 5_002) == resolved


def test_outcomes_delivered_retry_failed_and_requeue(store: Store) -> None:
    alert_id = _alert(store)
    a, b = _add(store, alert_id, channel="slack"), _add(store, alert_id, channel="teams")
    assert _claim(store, 1_000) == a
    assert _claim(store, 1_000) == b
    with store.transaction() as conn:
        outbox = Outbox(conn)
        outbox.mark_delivered(a, 1_100, 200)
        outbox.mark_delivered(a, 1_200, 200)  # a second mark changes nothing
        outbox.mark_failed(b, 404, "HTTP 404: no_service")
    with store.read() as conn:
        outbox = Outbox(conn)
        assert (outbox.get(a).status, outbox.get(a).delivered_at) == ("delivered", 1_100)
        assert (outbox.get(b).status, outbox.get(b).last_error) == ("failed", "HTTP 404: no_service")
        assert outbox.notified_channels(alert_id) == {"slack", "teams"}
    with store.transaction() as conn:
        assert Outbox(conn).requeue_failed(2_000, "slack") == 0
        assert Outbox(conn).requeue_failed(2_000, "teams") == 1
    assert _claim(store, 2_000) == b


def test_two_threads_claiming_at_once_never_get_the_same_row(store: Store) -> None:
    alert_id = _alert(store)
    rows = {_add(store, alert_id, "opened", channel, at=1_000 + i)
            for i in range(40) for channel in ("slack", "teams", "webhook")}
    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with store.transaction() as conn:
                outbox = Outbox(conn)
                row = outbox.claim_next(10_000, LEASE)
                if row is not None:
                    outbox.mark_delivered(row.id, 10_000, 200)
            if row is None:
                return
            with lock:
                claimed.append(row.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(claimed) == sorted(rows)  # every row once, none twice
