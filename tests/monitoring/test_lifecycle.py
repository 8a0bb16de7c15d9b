"""Demo mode: a first start backfills a labelled week; a second start does not."""

from __future__ import annotations

from datetime import timedelta

from monitoring.context import Monitor
from monitoring.lifecycle import backfill, build_source
from monitoring.pipeline import Pipeline
from monitoring.sources import MockSource
from monitoring.store import Predictions, Pulls


def test_first_demo_start_backfills_a_week_of_simulated_pulls(monitor: Monitor, clock) -> None:
    assert monitor.config.demo_mode and isinstance(build_source(monitor), MockSource)
    assert monitor.analysis_sources == ("mock",)
    pipeline = Pipeline(monitor, MockSource())
    clock.advance(days=10, minutes=30)
    assert backfill(monitor, pipeline, clock()) == 7 * 24
    with monitor.store.read() as conn:
        pulls = Pulls(conn).recent(0, 2**62, limit=1000)
        counts = Predictions(conn).count_by_source()
    assert {(p.kind, p.source, p.outcome) for p in pulls} == {("backfill", "mock", "ok")}
    slots = sorted(p.slot_at for p in pulls)
    assert slots[-1] + 3_600_000 == int((clock() - timedelta(minutes=30)).timestamp() * 1000)
    assert counts == {"mock": 7 * 24 * 20}
    assert backfill(monitor, pipeline, clock()) == 0  # only on a first start
