"""What a method sees: the reference core, the current window, the trend series, the CUSUMs.

Methods are pure functions of a ``CheckInput`` so the live detector, the batch check
and the tests all feed them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitoring.drift.core import ReferenceCore


@dataclass(frozen=True)
class WindowSample:
    """Standardised residual rows of the last pulls, sorted; ``weights`` when pulls were thinned."""

    values: np.ndarray
    weights: np.ndarray | None
    n_rows: int
    n_pulls: int
    n_outliers: int
    latest_max_abs_z: float = 0.0
    horizons: tuple[tuple[int, int, int], ...] = ()  # (pulls, rows, outliers) over longer spans

    @classmethod
    def build(cls, chunks: list[np.ndarray], rows: list[int], outliers: int,
              latest_max_abs_z: float = 0.0, horizons: tuple[tuple[int, int, int], ...] = ()
              ) -> WindowSample:
        values = np.concatenate(chunks) if chunks else np.zeros(0)
        thinned = any(c.size != n for c, n in zip(chunks, rows, strict=True))
        weights = None
        if thinned:
            weights = np.concatenate([np.full(c.size, n / c.size) for c, n in zip(chunks, rows, strict=True)])
        order = np.argsort(values, kind="stable")
        return cls(values[order], None if weights is None else weights[order], int(sum(rows)),
                   len(chunks), int(outliers), float(latest_max_abs_z), tuple(horizons))

    def harmonic_n(self, core: ReferenceCore) -> float:
        """n_ref * n_cur / (n_ref + n_cur) with both sides' effective sizes (within-pull correlation)."""
        n_ref = core.n_eff(core.n_rows, core.n_pulls)
        n_cur = core.n_eff(self.n_rows, self.n_pulls)
        return n_ref * n_cur / (n_ref + n_cur)


@dataclass(frozen=True)
class TrendSeries:
    """Per pull: time (s), prewhitened mean residual (sd units), deseasonalised level deviation."""

    times: np.ndarray
    resid_mean: np.ndarray
    dev: np.ndarray


@dataclass(frozen=True)
class CusumSnapshot:
    """The eight one-sided CUSUMs (score 0..3, up then down) after the current pull."""

    values: np.ndarray
    starts: tuple[float | None, ...]
    effects: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class CheckInput:
    core: ReferenceCore
    at: float
    window: WindowSample | None = None
    window_reason: str | None = None
    trend: TrendSeries | None = None
    trend_reason: str | None = None
    cusum: CusumSnapshot | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
