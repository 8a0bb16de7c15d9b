"""Demo mode: a first start backfills labelled history with a detectable incident; a second does not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring.context import Monitor
from monitoring.lifecycle import BACKFILL_DAYS, backfill, build_pipeline, build_source
from monitoring.pipeline import Pipeline
from monitoring.sources import MockSource
from monitoring.store import Alerts, Predictions, Pulls


def test_first_demo_start_backfills_simulated_pulls(monitor: Monitor, clock) -> None:
    assert monitor.config.demo_mode and isinstance(build_source(monitor), MockSource)
    assert monitor.analysis_sources == ("mock",)
    pipeline = Pipeline(monitor, MockSource())
    clock.advance(days=10, minutes=30)
    assert backfill(monitor, pipeline, clock()) == BACKFILL_DAYS * 24
    with monitor.store.read() as conn:
        pulls = Pulls(conn).recent(0, 2**62, limit=1000)
        counts = Predictions(conn).count_by_source()
    assert {(p.kind, p.source, p.outcome) for p in pulls} == {("backfill", "mock", "ok")}
    slots = sorted(p.slot_at for p in pulls)
    assert slots[-1] + 3_600_000 == int((clock() - timedelta(minutes=30)).timestamp() * 1000)
    assert counts == {"mock": BACKFILL_DAYS * 24 * 20}
    assert backfill(monitor, pipeline, clock()) == 0  # only on a first start


@pytest.mark.slow
def test_the_demo_incident_is_caught_and_nothing_else_alarms(monitor: Monitor, clock) -> None:
    clock.advance(days=12)
    backfill(monitor, build_pipeline(monitor), clock())
    with monitor.store.read() as conn:
        alerts = Alerts(conn).search(("open", "acknowledged", "resolved"))
    assert alerts, "the simulated confidence drop must be detected"
    assert {a.field for a in alerts} == {"confidence_interval"}
    assert "drift" in {a.kind for a in alerts}
