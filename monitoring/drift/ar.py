"""Autoregressive model of the pull-level series: fit once on the reference, then forecast.

Hourly predictions are persistent; comparing each pull with a one-step forecast
instead of the reference mean turns a wandering-but-stationary series into nearly
independent innovations, which is what the sequential tests and their calibration
assume. Order by BIC (AIC happily fits a spurious negative AR(4) to one week of
white noise, which then amplifies every harmless local excursion), conditional least
squares, forced stationary. Orders whose coefficients sum below zero are refused:
such a filter amplifies every sustained deviation by 1 - sum(phi) > 1, and in a week
of hourly data it is nearly always noise (prediction streams overshoot rarely); the
price when it is real is only a slightly conservative detector.
"""

from __future__ import annotations

import numpy as np


def lag_matrix(x: np.ndarray, p: int) -> np.ndarray:
    """Columns x[t-1], ..., x[t-p] for t = p..n-1."""
    n = x.size
    return np.column_stack([x[p - k:n - k] for k in range(1, p + 1)]) if p else np.zeros((n - p, 0))


def _stationary(phi: np.ndarray, limit: float = 0.99) -> np.ndarray:
    """Shrink coefficients until every root of the AR polynomial lies inside the unit circle."""
    phi = phi.copy()
    for _ in range(200):
        if phi.size == 0:
            return phi
        companion = np.zeros((phi.size, phi.size))
        companion[0] = phi
        companion[1:, :-1] = np.eye(phi.size - 1)
        if np.max(np.abs(np.linalg.eigvals(companion))) < limit:
            return phi
        phi *= 0.97 ** np.arange(1, phi.size + 1)
    return np.zeros_like(phi)


def fit_ar(x: np.ndarray, max_order: int) -> tuple[np.ndarray, float]:
    """AR coefficients (order by BIC on a common sample) and innovation variance of a centred series."""
    x = np.asarray(x, dtype=np.float64)
    max_order = int(min(max_order, max(0, x.size // 10)))
    target = x[max_order:]
    lags = lag_matrix(x, max_order)
    best: tuple[float, np.ndarray, float] | None = None
    for p in range(max_order + 1):
        if p:
            phi, *_ = np.linalg.lstsq(lags[:, :p], target, rcond=None)
            if np.sum(phi) < 0:
                continue
            resid = target - lags[:, :p] @ phi
        else:
            phi, resid = np.zeros(0), target
        sigma2 = float(np.mean(resid ** 2)) if resid.size else 0.0
        bic = target.size * np.log(max(sigma2, 1e-300)) + p * np.log(max(target.size, 2))
        if best is None or bic < best[0]:
            best = (bic, phi, sigma2)
    assert best is not None
    return _stationary(best[1]), best[2]


def forecasts(dev: np.ndarray, phi: np.ndarray, history: np.ndarray,
              resets: np.ndarray | None = None) -> np.ndarray:
    """One-step forecasts of ``dev`` given the ``history`` before it (most recent last).

    ``resets[j]`` True means the series restarted at pull j (a long gap): lags that
    cross a reset are treated as unknown, i.e. forecast towards the mean (0).
    """
    p, n = phi.size, dev.size
    out = np.zeros(n)
    if p == 0 or n == 0:
        return out
    hist = np.zeros(p)
    tail = np.asarray(history, dtype=np.float64)[-p:]
    if tail.size:
        hist[p - tail.size:] = tail
    ext = np.concatenate((hist, dev))
    seg = np.concatenate((np.zeros(p, dtype=np.int64),
                          np.cumsum(resets) if resets is not None else np.zeros(n, dtype=np.int64)))
    for k in range(1, p + 1):
        lagged = ext[p - k:p - k + n]
        valid = seg[p - k:p - k + n] == seg[p:]
        out += phi[k - 1] * np.where(valid, lagged, 0.0)
    return out
