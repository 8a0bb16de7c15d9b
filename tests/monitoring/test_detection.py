"""The drift service under a budget and in chunks: the same checks and alerts as one full pass.

Budgeted passes and chunked reads are how a cycle stays short and memory stays bounded
after a large import. They must change when work happens, never what it finds: every
test here compares the drift runs (each check's full record) and alerts against one
unbudgeted, unchunked pass over a copy of the same data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitoring.actors import Actor
from monitoring.budget import Budget
from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.detection import DriftService
from monitoring.pipeline import Pipeline
from monitoring.sources import MockSource
from monitoring.store import DriftStore
from monitoring.timeutil import to_ms
from tests.support.hourly import store_pulls

ADMIN = Actor("admin", "admin")
FIELDS = ["archived_gb_predicted", "savings_gb_predicted"]
START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 9
NOW = START + timedelta(days=DAYS)


class StepTimer:
    """Monotonic seconds that move only when told: budgets without sleeping."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _history(monitor: Monitor, rows_per_pull: int, big_pull_at: int | None = None) -> None:
    """``DAYS`` of hourly pulls for both fields; a 6-sd shift in the last day opens alerts."""
    rng = np.random.default_rng(11)
    monitor.settings.update(ADMIN, {"monitored_fields": FIELDS})
    pulls = []
    for h in range(DAYS * 24):
        n = rows_per_pull * (4 if h == big_pull_at else 1)
        shift = 6.0 if h >= (DAYS - 1) * 24 else 0.0
        a = 500 + 10 * (rng.standard_normal(n) + shift)
        b = 80 + 3 * rng.standard_normal(n)
        pulls.append([{FIELDS[0]: float(a[i]), FIELDS[1]: float(b[i])} for i in range(n)])
    store_pulls(monitor, START, pulls)


def _outcome(monitor: Monitor) -> tuple[list, list]:
    """Every drift run's full record, and every alert, without store ids."""
    with monitor.store.read() as conn:
        runs = conn.execute("SELECT run_at, field, status, drifted, severity, reason, result FROM drift_runs "
                            "ORDER BY field, run_at").fetchall()
        alerts = conn.execute("SELECT fingerprint, kind, severity, status, opened_at, last_seen_at, "
                              "resolved_at, occurrences, clean_checks, details FROM alerts "
                              "ORDER BY fingerprint, opened_at").fetchall()
    return runs, alerts


@pytest.fixture
def pair(env: dict[str, str], tmp_path, clock):
    """Two monitors on separate stores, to be given the same history."""
    clock.set(NOW)
    made = [open_monitor(load_config({**env, "MONITOR_DATA_DIR": str(tmp_path / name)}), clock=clock)
            for name in ("budgeted", "whole")]
    yield made
    for m in made:
        m.close()


def test_one_unit_per_pass_finds_exactly_what_one_full_pass_finds(pair) -> None:
    budgeted, whole = pair
    for m in pair:
        _history(m, rows_per_pull=1)
    DriftService(whole).run(NOW, whole.settings.effective())
    service, timer = DriftService(budgeted), StepTimer()
    passes, deferrals = 0, []
    while True:
        budget = Budget(0.0, timer)  # spent after one unit: a fit or one pull checked
        service.run(NOW, budgeted.settings.effective(), budget)
        passes += 1
        if not budget.deferred:
            break
        deferrals.append(budget.deferred)
    frozen, waiting = ("reference v1 frozen; checking its pulls continues next",
                       "waiting: this pass's drift budget went to other fields")
    assert deferrals[:2] == [{FIELDS[0]: frozen, FIELDS[1]: waiting}, {FIELDS[1]: frozen, FIELDS[0]: waiting}]
    later = "checked through 2026-01-12T00:00:00+00:00; the later pulls continue next"
    assert deferrals[2] == {FIELDS[0]: later, FIELDS[1]: waiting}
    assert deferrals[3] == {FIELDS[1]: later, FIELDS[0]: waiting}  # the field furthest behind goes first
    assert deferrals[-1] == {FIELDS[1]: waiting}  # a field with nothing left is not "waiting"
    runs, alerts = _outcome(budgeted)
    assert (runs, alerts) == _outcome(whole)
    checked = 2 * (DAYS * 24 - 7 * 24)  # the reference takes the first 7 days (168 hourly pulls)
    assert len(runs) == checked and passes == checked + 2  # two fits, then one pull per pass
    assert any(a[0].startswith(f"drift:{FIELDS[0]}") and a[3] == "open" for a in alerts)


def test_chunked_reads_cut_at_pull_boundaries_and_read_a_pull_bigger_than_a_chunk_whole(pair) -> None:
    chunked, whole = pair
    for m in pair:
        _history(m, rows_per_pull=3, big_pull_at=8 * 24 + 5)  # 12 rows, more than a 7-row chunk
    DriftService(whole).run(NOW, whole.settings.effective())
    DriftService(chunked, chunk_rows=7).run(NOW, chunked.settings.effective())
    assert _outcome(chunked) == _outcome(whole)
    with chunked.store.read() as conn:
        assert DriftStore(conn).state(FIELDS[0])[1] == to_ms(NOW - timedelta(hours=1))


def test_a_budgeted_cycle_defers_and_catch_up_finishes_the_rest(pair) -> None:
    budgeted, whole = pair
    for m in pair:
        _history(m, rows_per_pull=1)
    timer = StepTimer()
    pipeline = Pipeline(budgeted, MockSource(), detector=DriftService(budgeted), drift_budget_seconds=0.0,
                        timer=timer)
    report = pipeline.run_cycle(NOW, "manual")
    assert report.pull is not None and report.pull.rows_stored > 0
    assert list(report.drift_deferred) == FIELDS  # one reference frozen, the other field waiting
    done = pipeline.catch_up(NOW)
    assert done.deferred == {} and done.error is None and done.checks > 0
    assert done.passes == done.checks + 1  # one fit pass, then one pull per pass
    replay = Pipeline(whole, MockSource(), detector=DriftService(whole))  # unbudgeted
    replay.run_cycle(NOW, "replay")
    runs, alerts = _outcome(budgeted)
    assert runs == _outcome(whole)[0] and alerts == _outcome(whole)[1]
