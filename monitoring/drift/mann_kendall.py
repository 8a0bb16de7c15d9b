"""Mann-Kendall trend test on prewhitened pull means, with the Theil-Sen slope as effect size.

Prewhitened (AR-filtered, deseasonalised) pull means are close to independent, which
the MK variance assumes; what dependence remains is absorbed by a variance inflation
factor learned by bootstrap on the reference. The slope is estimated on the
deseasonalised level (not prewhitened) so it reads in value units per day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from monitoring.drift.inputs import CheckInput
from monitoring.drift.results import MethodResult, severity_for

NAME = "mann_kendall"
MIN_POINTS = 10


@dataclass(frozen=True)
class MKResult:
    s: float
    var_s: float
    z: float
    p_value: float


def mk_test(x: np.ndarray, var_inflation: float = 1.0) -> MKResult:
    """S = sum_{i<j} sign(x_j - x_i); tie-corrected variance; continuity-corrected two-sided z test."""
    s, var_s = _s_and_var(np.asarray(x, dtype=np.float64)[None, :])
    var_s = var_s * var_inflation
    z = float(_z(s, var_s)[0])
    return MKResult(float(s[0]), float(var_s[0]), z, float(2 * ndtr(-abs(z))))  # norm.sf(x) is ndtr(-x)


def mk_z_many(x: np.ndarray) -> np.ndarray:
    """``mk_test(row).z`` for every row of ``x`` (rows, n) at once: the calibration's thousands of windows."""
    return _z(*_s_and_var(np.asarray(x, dtype=np.float64)))


def _s_and_var(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``x`` (rows, n): S and its tie-corrected variance."""
    n = x.shape[1]
    s = np.zeros(x.shape[0])
    for lag in range(1, n):  # by lag: small arrays instead of one (rows, n^2 / 2) temporary
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    ties = np.zeros(x.shape[0])
    for r in np.flatnonzero(np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)):  # rare: exact repeats
        _, t = np.unique(x[r], return_counts=True)
        ties[r] = float(np.sum(t * (t - 1) * (2 * t + 5)))
    return s, (n * (n - 1) * (2 * n + 5) - ties) / 18.0


def _z(s: np.ndarray, var_s: np.ndarray) -> np.ndarray:
    """Continuity-corrected z; 0 when S is 0 or the variance vanishes."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s - np.sign(s)) / np.sqrt(var_s)
    return np.where((s == 0) | (var_s <= 0), 0.0, z)


def theil_sen(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Median of pairwise slopes and intercept median(y) - slope * median(x), as scipy.stats.theilslopes."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    dx = x[None, :] - x[:, None]
    dy = y[None, :] - y[:, None]
    upper = np.triu(dx, 1) != 0
    slope = float(np.median(dy[upper] / dx[upper]))
    return slope, float(np.median(y) - slope * np.median(x))


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    tr = inp.trend
    assert tr is not None
    res = mk_test(tr.resid_mean, float(params.get("var_inflation", 1.0)))
    days = (tr.times - tr.times[0]) / 86_400.0
    slope, intercept = theil_sen(tr.dev, days)
    effect = slope / max(inp.core.value_sd, 1e-12)
    alpha = float(override if override is not None else params.get("alpha", default))
    drifted = bool(res.p_value < alpha and abs(effect) >= min_effect)
    return MethodResult(
        name=NAME, kind="trend", statistic=res.p_value, threshold=alpha, drifted=drifted,
        effect_size=effect, p_value=res.p_value,
        severity=severity_for(effect, (0.25, 1.0)) if drifted else None,
        details={"s": res.s, "var_s": res.var_s, "z": res.z, "slope_per_day": slope,
                 "intercept": intercept + inp.core.level, "slope_units": "value per day",
                 "effect_units": "reference sd per day", "n_pulls": int(tr.times.size),
                 "min_effect": min_effect})
