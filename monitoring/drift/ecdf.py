"""Weighted empirical CDFs on sorted samples, the building block of KS and Wasserstein."""

from __future__ import annotations

import numpy as np


def cumulative(weights: np.ndarray | None, n: int) -> np.ndarray:
    """CDF levels after each sorted value, with a leading 0 (length n + 1)."""
    if weights is None:
        return np.arange(n + 1, dtype=np.float64) / max(n, 1)
    cw = np.concatenate(([0.0], np.cumsum(weights, dtype=np.float64)))
    return cw / cw[-1]


def cdf_at(sorted_values: np.ndarray, levels: np.ndarray, x: np.ndarray) -> np.ndarray:
    """F(x) = share of (weighted) values <= x."""
    return levels[np.searchsorted(sorted_values, x, side="right")]
