"""Outliers: robust z against the reference median/MAD, and their RATE against the reference's.

Single outliers never alarm: the outlier count is tested against the rate the
reference itself had, through the beta-binomial predictive law, which also carries
the uncertainty of that rate (a 168-row reference with 0 outliers does not prove the
rate is 0).

The count is tested over the window and over two longer horizons (3 and 7 windows).
Why: a sparse burst (2% of rows, a few rows per pull) puts two or three outliers in
a day's window, and against a reference rate that is only known to be "below a few
per thousand" that never stands out; over a week the same burst is a dozen. The
tests are Bonferroni-combined, so the method keeps its share of the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import betaln

from monitoring.drift.inputs import CheckInput
from monitoring.drift.results import MethodResult, severity_for

NAME = "anomaly_rate"
HORIZON_WINDOWS = (3, 7)  # longer horizons, in windows (24 pulls each by default: 3 and 7 days)


def robust_z(values: np.ndarray, median: float, mad: float) -> np.ndarray:
    """(x - median) / (1.4826 MAD): about N(0,1) for normal data, unmoved by the outliers themselves."""
    return (np.asarray(values, dtype=np.float64) - median) / (1.4826 * mad)


def rate_pvalue(k: int, n: int, k0: int, n0: int) -> float:
    """P(at least k of n outliers) when the rate is only known from k0 of n0 reference rows."""
    if k <= 0:
        return 1.0
    a, b = k0 + 0.5, n0 - k0 + 0.5
    if n < 0 or a <= 0 or b <= 0:
        return float("nan")
    if k > n:
        return 0.0
    # scipy.stats.betabinom.sf(k - 1, n, a, b) step for step (1 - sum of its pmf over 0..k-1), without
    # importing scipy.stats (~1 s of CLI start-up)
    m = np.arange(0.0, k)
    logpmf = -np.log(n + 1) - betaln(n - m + 1, m + 1) + betaln(m + a, n - m + b) - betaln(a, b)
    return float(np.clip(1.0 - np.sum(np.exp(logpmf)), 0.0, 1.0))


def longest_horizon(window_pulls: int) -> int:
    """How many pulls of (rows, outliers) counts the detector state keeps."""
    return max(HORIZON_WINDOWS, default=1) * window_pulls


def horizon_counts(counts: Sequence[tuple[int, int]], window_pulls: int) -> tuple[tuple[int, int, int], ...]:
    """(pulls, rows, outliers) for each longer horizon the counts already fill."""
    out = []
    for factor in HORIZON_WINDOWS:
        span = factor * window_pulls
        if len(counts) >= span:
            tail = counts[-span:]
            out.append((span, sum(n for n, _ in tail), sum(o for _, o in tail)))
    return tuple(out)


def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
           min_effect: float) -> MethodResult:
    w = inp.window
    assert w is not None
    core = inp.core
    ref_rate = core.outliers / max(core.n_rows, 1)
    spans = ((w.n_pulls, w.n_rows, w.n_outliers), *w.horizons)
    tests = len(spans)
    best: tuple[float, int, int, int] | None = None  # (adjusted p, pulls, rows, outliers)
    for pulls, rows, outliers in spans:
        rate = outliers / max(rows, 1)
        if rate - ref_rate < min_effect or rate < 2 * ref_rate:
            continue  # too small to matter at this horizon
        adjusted = min(1.0, tests * rate_pvalue(outliers, rows, core.outliers, core.n_rows))
        if best is None or adjusted < best[0]:
            best = (adjusted, pulls, rows, outliers)
    p, pulls, rows, outliers = best or (1.0, w.n_pulls, w.n_rows, w.n_outliers)
    rate = outliers / max(rows, 1)
    alpha = float(override if override is not None else params.get("alpha", default))
    effect = rate - ref_rate
    drifted = bool(best is not None and p < alpha)
    return MethodResult(
        name=NAME, kind="anomaly", statistic=p, threshold=alpha, drifted=drifted, effect_size=effect,
        p_value=p, severity=severity_for(effect, (0.01, 0.05)) if drifted else None,
        details={"outliers": outliers, "rows": rows, "pulls": pulls, "rate": rate, "reference_rate": ref_rate,
                 "tests": tests, "cut_z": core.outlier_z, "latest_max_abs_z": round(w.latest_max_abs_z, 3),
                 "min_effect": min_effect})
