"""Admin re-baseline on a real encrypted store: versioned, audited, and detection carries on.

Setup for the detection story: a week at level 500 (the default reference), then two
weeks at 560 (6 sd higher: a drift alert opens). An admin re-baselines on days 10-20,
the new normal. Detection must continue after day 21 (the 24 pulls of day 20, already
checked, are not checked again) and the open alert resolves after K clean checks.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitoring.actors import Actor
from monitoring.alerts import drift_fingerprint
from monitoring.baseline import ACTION, rebaseline, references
from monitoring.detection import DriftService
from monitoring.errors import PermissionDeniedError, ValidationError
from monitoring.store import Alerts, Audit, DriftStore
from monitoring.timeutil import to_ms
from tests.support.hourly import store_hourly

FIELD = "archived_gb_predicted"
START = datetime(2026, 1, 5, tzinfo=UTC)
ADMIN = Actor("admin", "admin")
ANALYST = Actor("ann", "analyst")


def day(n: float) -> datetime:
    return START + timedelta(days=n)


@pytest.fixture
def monitor(monitor):
    """The shared real-store monitor, watching one field (one fit per detection run)."""
    monitor.settings.update(ADMIN, {"monitored_fields": [FIELD]})
    return monitor


def _detect(monitor, now: datetime):
    monitor.clock.set(now)
    return DriftService(monitor).run(now, monitor.settings.effective())


def _audit(monitor):
    with monitor.store.read() as conn:
        return Audit(conn).recent(action_prefix=ACTION)


def test_analyst_may_not_rebaseline_and_nothing_changes(monitor) -> None:
    store_hourly(monitor, FIELD, START, np.full(24 * 8, 500.0) + np.arange(24 * 8) % 7)
    with pytest.raises(PermissionDeniedError, match="ann \\(analyst\\) may not re-baseline"):
        rebaseline(monitor, ANALYST, FIELD, day(0), day(8))
    assert references(monitor, FIELD) == [] and _audit(monitor) == []


def test_a_too_small_range_says_what_to_do_and_stores_nothing(monitor) -> None:
    store_hourly(monitor, FIELD, START, 500.0 + np.arange(40) % 5)
    with pytest.raises(ValidationError) as info:
        rebaseline(monitor, ADMIN, FIELD, day(0), day(3))
    assert str(info.value) == (
        "only 40 rows of archived_gb_predicted over 1.6 days between 2026-01-05T00:00:00Z and "
        "2026-01-08T00:00:00Z; the reference needs at least 168 rows over 7 days: widen the range")
    with pytest.raises(ValidationError, match="there are no mock rows of archived_gb_predicted between "
                                              "2026-02-01T00:00:00Z and 2026-03-01T00:00:00Z"):
        rebaseline(monitor, ADMIN, FIELD, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert references(monitor, FIELD) == [] and _audit(monitor) == []


@pytest.mark.parametrize(("field", "start", "end", "message"), [
    (FIELD, datetime(2026, 1, 5), day(8), "has no timezone"),
    (FIELD, day(8), day(8), "at or after it ends"),
    ("savings_gb_predicted", day(0), day(8), "'savings_gb_predicted' is not a monitored field "
                                             "(archived_gb_predicted); add it on the settings page"),
])
def test_requests_are_validated_before_any_work(monitor, field, start, end, message) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        rebaseline(monitor, ADMIN, field, start, end)


def test_first_reference_by_admin_is_audited_with_no_old_version(monitor) -> None:
    rng = np.random.default_rng(1)
    store_hourly(monitor, FIELD, START, 500.0 + 10.0 * rng.standard_normal(24 * 9))
    monitor.clock.set(day(9))
    record = rebaseline(monitor, ADMIN, FIELD, day(1), day(8), note="  after the model release  ")
    assert (record.version, record.status, record.created_by) == (1, "active", "admin")
    last_row = day(8) - timedelta(hours=1)
    assert (record.start_at, record.end_at, record.n_rows) == (to_ms(day(1)), to_ms(last_row), 168)
    assert record.note == "after the model release"
    (entry,) = _audit(monitor)
    assert (entry.actor, entry.action, entry.target, entry.at) == ("admin", ACTION, FIELD, to_ms(day(9)))
    assert entry.old_value is None
    new = json.loads(entry.new_value)
    assert new["version"] == 1 and new["rows"] == 168 and new["note"] == "after the model release"
    assert new["requested"] == ["2026-01-06T00:00:00Z", "2026-01-13T00:00:00Z"]
    # no earlier reference: detection starts after the new range, as for a default reference
    with monitor.store.read() as conn:
        assert DriftStore(conn).state(FIELD) is None
    checks, _ = _detect(monitor, day(9))
    assert [c.at for c in checks] == [(day(8) + timedelta(hours=h)).timestamp() for h in range(24)]


def test_detection_continues_where_it_got_and_open_alerts_resolve_by_hysteresis(monitor) -> None:
    rng = np.random.default_rng(2)
    level = np.r_[np.full(24 * 7, 500.0), np.full(24 * 14, 560.0)]
    last = store_hourly(monitor, FIELD, START, level + 10.0 * rng.standard_normal(level.size))
    checks, changes = _detect(monitor, last)
    assert len(checks) == 24 * 14  # default reference: days 0-7; every later pull checked once
    opened = {a.id for a in changes.opened}
    assert {a.kind for a in changes.opened} == {"drift", "anomaly"}  # 6 sd: every row is an outlier too
    with monitor.store.read() as conn:
        v1 = DriftStore(conn).active_reference(FIELD)
        reached = DriftStore(conn).state(FIELD)[1]
    assert v1.version == 1 and reached == to_ms(last)

    monitor.clock.set(day(21) + timedelta(minutes=5))
    v2 = rebaseline(monitor, ADMIN, FIELD, day(10), day(20), note="new normal after the release")

    # versioned: v1 retired, v2 active, newest first for the settings page
    assert [(r.version, r.status) for r in references(monitor, FIELD)] == [(2, "active"), (1, "retired")]
    assert (v2.start_at, v2.end_at, v2.n_rows) == (to_ms(day(10)), to_ms(day(20) - timedelta(hours=1)), 240)
    # audited in the same transaction: who, when, old and new version and range
    (entry,) = _audit(monitor)
    assert (entry.actor, entry.target, entry.at) == ("admin", FIELD, to_ms(day(21) + timedelta(minutes=5)))
    assert json.loads(entry.old_value) == {"version": 1, "start": "2026-01-05T00:00:00Z",
                                           "end": "2026-01-11T23:00:00Z", "rows": 168, "sources": "mock"}
    new = json.loads(entry.new_value)
    assert (new["version"], new["start"], new["end"], new["rows"]) == (
        2, "2026-01-15T00:00:00Z", "2026-01-24T23:00:00Z", 240)
    # the detector keeps its place: the pulls of day 20, already checked, are not checked again
    with monitor.store.read() as conn:
        assert DriftStore(conn).state(FIELD)[:2] == (v2.id, to_ms(last))
        still_open = {a.id for a in Alerts(conn).unresolved()}
        drift_alert = Alerts(conn).open_episode(drift_fingerprint(FIELD, "drift"))
    assert still_open == opened and drift_alert is not None and drift_alert.id in opened

    resolve_after = monitor.settings.effective()["resolve_after_clean_checks"]
    for hour in range(resolve_after):
        moment = last + timedelta(hours=hour + 1)
        store_hourly(monitor, FIELD, moment, [560.0 + 10.0 * rng.standard_normal()])
        checks, changes = _detect(monitor, moment)
        assert [c.at for c in checks] == [moment.timestamp()]  # only the new pull
        assert not checks[0].drifted
        if hour < resolve_after - 1:
            assert changes.resolved == []
    assert {a.id for a in changes.resolved} == opened  # closed by hysteresis, not by the re-baseline
    with monitor.store.read() as conn:
        runs = DriftStore(conn).runs(FIELD, 0, 2**62, limit=10_000)
    assert [r.reference_id for r in runs].count(v2.id) == resolve_after
    assert len(runs) == 24 * 14 + resolve_after


def test_a_cycle_that_raced_the_rebaseline_does_not_make_detection_replay(monitor) -> None:
    """A cycle that read v1 and saves its state after v2 committed: the next cycle still carries on."""
    rng = np.random.default_rng(3)
    last = store_hourly(monitor, FIELD, START, 500.0 + 10.0 * rng.standard_normal(24 * 10))
    _detect(monitor, last)
    with monitor.store.read() as conn:
        v1_id, reached, v1_state = DriftStore(conn).state(FIELD)
    v2 = rebaseline(monitor, ADMIN, FIELD, day(0), day(8))
    with monitor.store.transaction() as conn:  # the late write of the cycle that still used v1
        DriftStore(conn).put_state(FIELD, v1_id, reached, v1_state)
    moment = last + timedelta(hours=1)
    store_hourly(monitor, FIELD, moment, [500.0])
    checks, _ = _detect(monitor, moment)
    assert [c.at for c in checks] == [moment.timestamp()]
    with monitor.store.read() as conn:
        assert DriftStore(conn).state(FIELD)[:2] == (v2.id, to_ms(moment))
