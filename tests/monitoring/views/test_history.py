"""History read model: SQL rollup aggregates equal the same statistics computed from raw rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np
import pytest

from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.store import Predictions
from monitoring.views import history
from monitoring.views.common import HOUR_MS, TimeRange
from tests.support import seeded

FIELD = "archived_gb_predicted"


def test_series_matches_numpy_on_the_raw_rows(seeded_monitor: Monitor) -> None:
    span = TimeRange.last(seeded.NOW, 3)
    points = history.series(seeded_monitor, FIELD, span, ("mock",), max_points=24)
    with seeded_monitor.store.read() as conn:
        times, values = Predictions(conn).values(FIELD, span.start_ms, span.end_ms, ("mock",))
    bucket = span.bucket_ms(24)
    assert bucket == 3 * HOUR_MS
    keys = (times // bucket) * bucket
    assert [p.at_ms for p in points] == sorted(set(keys.tolist()))
    for p in points:
        chunk = values[keys == p.at_ms]
        assert p.n == chunk.size
        assert p.mean == pytest.approx(chunk.mean(), rel=1e-9)
        assert p.sd == pytest.approx(chunk.std(ddof=1), rel=1e-6)
        assert (p.lo, p.hi) == (chunk.min(), chunk.max())


def test_quarantined_rows_come_with_their_reason(seeded_monitor: Monitor) -> None:
    rows = history.rejected(seeded_monitor, TimeRange.last(seeded.NOW + timedelta(minutes=1), 1))
    assert len(rows) == 1
    assert FIELD in rows[0]["reason"] and rows[0]["source"] == "simulated"


def test_pulls_table_has_outcome_latency_and_attempts(seeded_monitor: Monitor) -> None:
    rows = history.pulls(seeded_monitor, TimeRange.last(seeded.NOW + timedelta(minutes=1), 1))
    assert {"outcome", "latency ms", "attempts", "rows stored", "quarantined"} <= set(rows[0])
    assert any(r["quarantined"] == 1 and r["outcome"] == "failed" for r in rows)


def test_csv_export_holds_every_selected_row_and_states_a_cap(seeded_monitor: Monitor) -> None:
    span = TimeRange.last(seeded.NOW, 1)
    text = history.export_csv(seeded_monitor, span, ("mock",)).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    with seeded_monitor.store.read() as conn:
        _, values = Predictions(conn).values(FIELD, span.start_ms, span.end_ms, ("mock",))
    assert len(rows) == values.size > 0
    assert np.allclose(sorted(float(r[FIELD]) for r in rows), np.sort(values))
    assert rows[0]["predicted_at"].endswith("Z") and rows[0]["source"] == "mock"
    capped = history.export_csv(seeded_monitor, span, ("mock",), max_rows=5).decode().splitlines()
    assert len(capped) == 1 + 5 + 1 and capped[-1].startswith("# truncated at 5 rows")


def test_monitored_fields_come_first(seeded_monitor: Monitor) -> None:
    assert history.monitored_fields(seeded_monitor)[:3] == [FIELD, "savings_gb_predicted",
                                                           "confidence_interval"]


def test_time_ranges_refuse_backwards_and_naive_ends() -> None:
    with pytest.raises(ValidationError, match="after its start"):
        TimeRange(seeded.NOW, seeded.NOW)
    with pytest.raises(ValidationError, match="timezone"):
        TimeRange(seeded.NOW.replace(tzinfo=None), seeded.NOW.replace(tzinfo=None) + timedelta(1))
    assert TimeRange.last(seeded.NOW, 90).bucket_ms(400) == 6 * HOUR_MS
