"""Synthetic hourly streams for the drift tests: seeded, so every figure is reproducible."""

from __future__ import annotations

import numpy as np

HOUR = 3600.0
DAY = 86_400.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a Thursday


def hours(n: int, start: float = T0) -> np.ndarray:
    """Epoch seconds of ``n`` hourly pulls."""
    return start + HOUR * np.arange(n)


def ar1(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    """A stationary AR(1) series with unit innovations (started from its stationary law)."""
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1.0 - phi * phi)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def batched(pull_times: np.ndarray, levels: np.ndarray, batch: int, sd: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(row times, row values): ``batch`` rows per pull around each pull's level."""
    t = np.repeat(pull_times, batch)
    return t, np.repeat(levels, batch) + sd * rng.standard_normal(t.size)
