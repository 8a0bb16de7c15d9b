"""Population Stability Index on bins fixed from reference quantiles at fit time.

Fixed bins make PSI comparable across checks and cheap (one searchsorted). The
window's proportions are smoothed with half a row per bin (Jeffreys), so an empty bin
costs what its evidence is worth: with a fixed tiny floor, one bin of a 120-row window
emptying by chance (about 3e-5 per window) made PSI jump by ~0.7, above any threshold
calibrated on the continuous part of its null distribution -- a false alarm that the
bootstrap, with a few thousand windows, never sees. The floor stays as a guard only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from monitoring.drift.gating import distance_result
from monitoring.drift.inputs import CheckInput
from monitoring.drift.results import MethodResult

NAME = "psi"
FLOOR = 1e-4


def bin_proportions(edges: np.ndarray, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Share of (weighted) values per bin; bins are (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    idx = np.searchsorted(edges, values, side="right")
    counts = np.bincount(idx, weights=weights, minlength=edges.size + 1).astype(np.float64)
    return counts / max(counts.sum(), 1e-300)


def smoothed(props: np.ndarray, n_rows: float | np.ndarray) -> np.ndarray:
    """Proportions of ``n_rows`` rows with half a row added to every bin (Jeffreys prior).

    Row-wise over the last axis, so the calibration smooths all its windows at once.
    """
    props = np.asarray(props, dtype=np.float64)
    return (props * n_rows + 0.5) / (n_rows + 0.5 * props.shape[-1])


def psi_rows(ref_props: np.ndarray, cur_props: np.ndarray, floor: float = FLOOR) -> np.ndarray:
    """sum (cur - ref) * ln(cur / ref) over the last axis, proportions floored at ``floor``."""
    r = np.maximum(np.asarray(ref_props, dtype=np.float64), floor)
    c = np.maximum(np.asarray(cur_props, dtype=np.float64), floor)
    return np.sum((c - r) * np.log(c / r), axis=-1)


def psi(ref_props: np.ndarray, cur_props: np.ndarray, floor: float = FLOOR) -> float:
    """PSI of one window's proportions."""
    return float(psi_rows(ref_props, cur_props, floor))


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    w = inp.window
    assert w is not None
    cur = smoothed(bin_proportions(inp.core.edges, w.values, w.weights), w.n_rows)
    value = psi(inp.core.ref_props, cur)
    return distance_result(NAME, "drift", value, w.harmonic_n(inp.core), 1, params, override, default,
                           min_effect, (0.1, 0.25))
