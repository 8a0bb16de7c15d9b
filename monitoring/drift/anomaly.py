"""Outliers: robust z against the reference median/MAD, and their RATE against the reference's.

Single outliers never alarm: the window's outlier count is tested against the rate
the reference itself had, through the beta-binomial predictive law, which also
carries the uncertainty of that rate (a 168-row reference with 0 outliers does not
prove the rate is 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.stats import betabinom

from monitoring.drift.inputs import CheckInput
from monitoring.drift.results import MethodResult, severity_for

NAME = "anomaly_rate"


def robust_z(values: np.ndarray, median: float, mad: float) -> np.ndarray:
    """(x - median) / (1.4826 MAD): about N(0,1) for normal data, unmoved by the outliers themselves."""
    return (np.asarray(values, dtype=np.float64) - median) / (1.4826 * mad)


def rate_pvalue(k: int, n: int, k0: int, n0: int) -> float:
    """P(at least k of n outliers) when the rate is only known from k0 of n0 reference rows."""
    if k <= 0:
        return 1.0
    return float(betabinom.sf(k - 1, n, k0 + 0.5, n0 - k0 + 0.5))


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    w = inp.window
    assert w is not None
    core = inp.core
    rate = w.n_outliers / max(w.n_rows, 1)
    ref_rate = core.outliers / max(core.n_rows, 1)
    p = rate_pvalue(w.n_outliers, w.n_rows, core.outliers, core.n_rows)
    alpha = float(override if override is not None else params.get("alpha", default))
    effect = rate - ref_rate
    drifted = bool(p < alpha and effect >= min_effect and rate >= 2 * ref_rate)
    return MethodResult(
        name=NAME, kind="anomaly", statistic=p, threshold=alpha, drifted=drifted, effect_size=effect,
        p_value=p, severity=severity_for(effect, (0.01, 0.05)) if drifted else None,
        details={"outliers": w.n_outliers, "rows": w.n_rows, "rate": rate, "reference_rate": ref_rate,
                 "cut_z": core.outlier_z, "latest_max_abs_z": round(w.latest_max_abs_z, 3),
                 "min_effect": min_effect})
