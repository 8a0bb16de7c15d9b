"""Daily and weekly profiles learned from the reference, kept only where they are real.

A profile that is not there costs little, a real one left out becomes a periodic
false alarm; but with one week of persistent data an OLS F-test "finds" weekly
cycles in pure AR noise. So each harmonic pair is tested on prewhitened data
(Cochrane-Orcutt: the regression is filtered by an AR model of its own residuals)
at a strict level, and the kept ones are re-estimated by that same GLS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import fdtrc

from monitoring.drift.ar import fit_ar

DAY = 86_400.0
WEEK = 7 * DAY

Term = tuple[float, int]  # (period in seconds, harmonic number)


def design(t: np.ndarray, terms: Sequence[Term]) -> np.ndarray:
    """Intercept plus one cos/sin pair per term, evaluated at epoch seconds ``t``."""
    cols = [np.ones_like(t)]
    for period, k in terms:
        angle = (2 * np.pi * k / period) * np.mod(t, period)
        cols += [np.cos(angle), np.sin(angle)]
    return np.column_stack(cols)


def candidate_terms(span: float, interval: float, max_daily: int, max_weekly: int) -> list[Term]:
    """Harmonics the reference can identify: the span covers the period, Nyquist is respected."""
    out: list[Term] = []
    daily = span >= 0.95 * DAY and max_daily > 0
    for period, most in ((DAY, max_daily), (WEEK, max_weekly)):
        if span < 0.95 * period:
            continue
        # Weekly harmonic 7j is daily harmonic j: keep one of the two collinear columns.
        out += [(period, k) for k in range(1, most + 1) if period / k >= 2.5 * interval
                and not (period == WEEK and daily and k % 7 == 0 and k // 7 <= max_daily)]
    return out


def _prewhiten(y: np.ndarray, x: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = phi.size
    yw, xw = y[p:].copy(), x[p:].copy()
    for k in range(1, p + 1):
        yw -= phi[k - 1] * y[p - k:y.size - k]
        xw -= phi[k - 1] * x[p - k:x.shape[0] - k]
    return yw, xw


def _gls(t: np.ndarray, y: np.ndarray, terms: Sequence[Term], max_ar: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(coef, phi, whitened y, whitened X) of one Cochrane-Orcutt step."""
    x = design(t, terms)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    phi, _ = fit_ar(y - x @ coef, max_ar)
    yw, xw = _prewhiten(y, x, phi)
    coef, *_ = np.linalg.lstsq(xw, yw, rcond=None)
    return coef, phi, yw, xw


def f_pvalue(f_stat: float, dof: int) -> float:
    """P(F(2, dof) >= f_stat), as scipy.stats.f.sf, whose fdtrc is nan below 0 where sf is 1."""
    return float(fdtrc(2, dof, max(f_stat, 0.0)))


def fit_profile(t: np.ndarray, y: np.ndarray, candidates: Sequence[Term], alpha: float,
                max_ar: int) -> tuple[list[Term], np.ndarray]:
    """Selected terms and their coefficients (intercept first) for the pull-level series ``y``."""
    terms = list(candidates)
    if terms:
        coef, _, yw, xw = _gls(t, y, terms, max_ar)
        rss_full = float(np.sum((yw - xw @ coef) ** 2))
        dof = yw.size - xw.shape[1]
        keep = []
        for i, term in enumerate(terms):
            cols = [c for c in range(xw.shape[1]) if c not in (1 + 2 * i, 2 + 2 * i)]
            sub, *_ = np.linalg.lstsq(xw[:, cols], yw, rcond=None)
            rss = float(np.sum((yw - xw[:, cols] @ sub) ** 2))
            f_stat = ((rss - rss_full) / 2) / max(rss_full / max(dof, 1), 1e-300)
            if dof > 0 and f_pvalue(f_stat, dof) < alpha:
                keep.append(term)
        terms = keep
    coef, *_ = _gls(t, y, terms, max_ar)
    return terms, coef


def evaluate(t: np.ndarray, terms: Sequence[Term], coef: np.ndarray) -> np.ndarray:
    """Profile (level included) at times ``t``."""
    return design(np.asarray(t, dtype=np.float64), terms) @ coef
