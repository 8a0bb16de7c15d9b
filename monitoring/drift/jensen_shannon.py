"""Jensen-Shannon distance (natural log) on the same fixed reference-quantile bins as PSI.

Bounded and symmetric, so it stays readable when a bin empties, where PSI explodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from monitoring.drift.gating import distance_result
from monitoring.drift.inputs import CheckInput
from monitoring.drift.psi import bin_proportions
from monitoring.drift.results import MethodResult

NAME = "jensen_shannon"


def _kl(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(p / m), 0.0).sum(axis=-1)


def js_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sqrt of the JS divergence over the last axis (weights normalised), as
    scipy.spatial.distance.jensenshannon; row-wise so the calibration scores all its windows at once."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p = p / np.sum(p, axis=-1, keepdims=True)
    q = q / np.sum(q, axis=-1, keepdims=True)
    m = 0.5 * (p + q)
    return np.sqrt(np.maximum(0.5 * _kl(p, m) + 0.5 * _kl(q, m), 0.0))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """JS distance of one window's proportions."""
    return float(js_rows(p, q))


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    w = inp.window
    assert w is not None
    value = js_distance(inp.core.ref_props, bin_proportions(inp.core.edges, w.values, w.weights))
    return distance_result(NAME, "drift", value, w.harmonic_n(inp.core), 2, params, override, default,
                           min_effect, (0.15, 0.3))
