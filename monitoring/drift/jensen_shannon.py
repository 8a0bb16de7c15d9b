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


def _kl(p: np.ndarray, m: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / m[mask])))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """sqrt of the JS divergence, as scipy.spatial.distance.jensenshannon(p, q)."""
    p = np.asarray(p, dtype=np.float64) / np.sum(p)
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    m = 0.5 * (p + q)
    return float(np.sqrt(max(0.5 * _kl(p, m) + 0.5 * _kl(q, m), 0.0)))


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    w = inp.window
    assert w is not None
    value = js_distance(inp.core.ref_props, bin_proportions(inp.core.edges, w.values, w.weights))
    return distance_result(NAME, "drift", value, w.harmonic_n(inp.core), 2, params, override, default,
                           min_effect, (0.15, 0.3))
