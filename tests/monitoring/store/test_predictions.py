"""Predictions repository: dedup by key, rollups kept in step, reads by range and source."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.store import Predictions, PullRecord, Pulls, Store, StoredRow
from monitoring.store.predictions import HOUR_MS


def _pull(conn, source: str = "azure_ml") -> int:
    return Pulls(conn).add(PullRecord(0, 0, 1, "manual", source, "ok"))


def _rows(t0: int, n: int, base: float = 100.0) -> list[StoredRow]:
    return [StoredRow(t0, i, {"a": base + i, "b": 2.0 * i}, "v1") for i in range(n)]


def test_repeated_insert_stores_nothing_twice(store: Store) -> None:
    with store.transaction() as conn:
        first = Predictions(conn).insert(_pull(conn), "azure_ml", _rows(HOUR_MS, 5))
        again = Predictions(conn).insert(_pull(conn), "azure_ml", _rows(HOUR_MS, 5))
        more = Predictions(conn).insert(_pull(conn), "azure_ml", _rows(HOUR_MS, 7))
    assert (first, again, more) == (5, 0, 2)
    with store.read() as conn:
        repo = Predictions(conn)
        assert repo.count() == 7
        (bucket,) = repo.series("a", 0, 10 * HOUR_MS, ["azure_ml"])
    assert bucket[1] == 7  # the rollup counted each row once
    assert bucket[2] == pytest.approx(np.mean([100 + i for i in range(7)]))


def test_same_time_other_source_is_a_different_row(store: Store) -> None:
    with store.transaction() as conn:
        Predictions(conn).insert(_pull(conn), "azure_ml", _rows(HOUR_MS, 3))
        Predictions(conn).insert(_pull(conn, "mock"), "mock", _rows(HOUR_MS, 3))
    with store.read() as conn:
        assert Predictions(conn).count_by_source() == {"azure_ml": 3, "mock": 3}


def test_values_by_range_and_source(store: Store) -> None:
    with store.transaction() as conn:
        repo = Predictions(conn)
        for hour in range(5):
            repo.insert(_pull(conn), "azure_ml", _rows(hour * HOUR_MS, 2, base=hour))
        repo.insert(_pull(conn, "mock"), "mock", _rows(2 * HOUR_MS, 2, base=1000))
    with store.read() as conn:
        times, values = Predictions(conn).values("a", HOUR_MS, 3 * HOUR_MS, ["azure_ml"])
        assert times.tolist() == [HOUR_MS, HOUR_MS, 2 * HOUR_MS, 2 * HOUR_MS]
        assert values.tolist() == [1.0, 2.0, 2.0, 3.0]
        _, mocked = Predictions(conn).values("a", 0, 10 * HOUR_MS, ["mock"])
        assert mocked.tolist() == [1000.0, 1001.0]
        _, missing = Predictions(conn).values("nope", 0, 10 * HOUR_MS, ["azure_ml"])
        assert missing.size == 0


def test_series_aggregates_buckets_in_sql(store: Store) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(50, 5, size=(48, 4))
    with store.transaction() as conn:
        repo = Predictions(conn)
        for hour in range(48):
            repo.insert(_pull(conn), "import", [StoredRow(hour * HOUR_MS + 60_000, i,
                                                          {"a": float(data[hour, i])})
                                                for i in range(4)])
    with store.read() as conn:
        days = Predictions(conn).series("a", 0, 48 * HOUR_MS, ["import"], bucket_ms=24 * HOUR_MS)
    assert [d[0] for d in days] == [0, 24 * HOUR_MS]
    for (_, n, mean, sd, lo, hi), chunk in zip(days, (data[:24], data[24:]), strict=True):
        assert n == 96
        assert mean == pytest.approx(chunk.mean())
        assert sd == pytest.approx(chunk.std(ddof=1))
        assert (lo, hi) == (pytest.approx(chunk.min()), pytest.approx(chunk.max()))


def test_fields_are_data_not_schema(store: Store) -> None:
    with store.transaction() as conn:
        Predictions(conn).insert(_pull(conn), "azure_ml",
                                 [StoredRow(0, 0, {"a": 1.0, "brand_new_output": 3.5})])
    with store.read() as conn:
        assert Predictions(conn).fields() == ["a", "brand_new_output"]
        _, values = Predictions(conn).values("brand_new_output", 0, HOUR_MS, ["azure_ml"])
    assert values.tolist() == [3.5]


def test_span_and_retention(store: Store) -> None:
    with store.transaction() as conn:
        repo = Predictions(conn)
        for hour in range(10):
            repo.insert(_pull(conn), "azure_ml", _rows(hour * HOUR_MS, 1))
    with store.transaction() as conn:
        deleted = Predictions(conn).delete_before(5 * HOUR_MS)
    with store.read() as conn:
        assert deleted == 5
        assert Predictions(conn).span(["azure_ml"]) == (5 * HOUR_MS, 9 * HOUR_MS)
        assert Predictions(conn).count() == 5
