"""Ranks against a sorted sample: the lookup-table path equals numpy's binary search exactly."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift.ecdf import TABLE_MIN_KEYS, ranks


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(12)
    normal = np.sort(rng.standard_normal(2048))
    heavy = np.sort(rng.standard_t(1.5, 2048))  # a few huge values: crowded central cells
    discrete = np.sort(rng.integers(-3, 4, 2048).astype(float))
    constant = np.full(100, 2.5)
    keys = rng.standard_normal(20_000) * 1.5
    return [("normal", normal, keys),
            ("normal, keys equal to values, outside the range, infinite or NaN",
             normal, np.concatenate((keys, normal, normal[[0, -1]],
                                     [-1e9, 1e9, normal[0] - 1e-12, np.inf, -np.inf, np.nan]))),
            ("heavy tails", heavy, rng.standard_t(1.5, 20_000)),
            ("discrete", discrete, rng.integers(-5, 6, 20_000).astype(float)),
            ("constant", constant, rng.normal(2.5, 0.1, 10_000))]


@pytest.mark.parametrize(("name", "values", "keys"), _cases(), ids=[c[0] for c in _cases()])
def test_ranks_equal_both_binary_searches(name: str, values: np.ndarray, keys: np.ndarray) -> None:
    assert keys.size >= TABLE_MIN_KEYS  # the table path
    left, right = ranks(values, keys)
    assert np.array_equal(left, np.searchsorted(values, keys, side="left"))
    assert np.array_equal(right, np.searchsorted(values, keys, side="right"))
    small_left, small_right = ranks(values, keys[:100])  # the binary-search path
    assert np.array_equal(small_left, left[:100]) and np.array_equal(small_right, right[:100])
