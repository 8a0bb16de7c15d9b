"""Wasserstein-1 distance between residual distributions, in reference-sd units.

Current values are clipped to the reference range first: one extreme value from a
heavy tail would otherwise dominate W1 on a small window; extremes are the anomaly
method's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from monitoring.drift.ecdf import cdf_at, cumulative
from monitoring.drift.gating import distance_result
from monitoring.drift.inputs import CheckInput
from monitoring.drift.results import MethodResult

NAME = "wasserstein"


def wasserstein(u_sorted: np.ndarray, v_sorted: np.ndarray, v_weights: np.ndarray | None = None) -> float:
    """Integral of |U - V| (equals scipy.stats.wasserstein_distance for unweighted samples)."""
    pooled = np.sort(np.concatenate((u_sorted, v_sorted)), kind="mergesort")
    deltas = np.diff(pooled)
    u_cdf = cdf_at(u_sorted, cumulative(None, u_sorted.size), pooled[:-1])
    v_cdf = cdf_at(v_sorted, cumulative(v_weights, v_sorted.size), pooled[:-1])
    return float(np.sum(np.abs(u_cdf - v_cdf) * deltas))


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    w = inp.window
    assert w is not None
    sk = inp.core.sketch
    value = wasserstein(sk, np.clip(w.values, sk[0], sk[-1]), w.weights)
    return distance_result(NAME, "drift", value, w.harmonic_n(inp.core), 2, params, override, default,
                           min_effect, (0.25, 0.75), details={"units": "reference sd"})
