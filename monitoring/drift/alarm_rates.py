"""Alarm-rate curves: how often a CUSUM or a window statistic crosses a threshold under no change.

We cannot simulate years of pulls to see a once-in-five-years false alarm, so the
rate is extrapolated with forms that theory guarantees in the tail:

* CUSUM: for increments with negative mean, the rate of crossing h decays like
  ``C * exp(-theta * h)`` where theta solves E[exp(theta X)] = 1 (Lundberg). Theta
  is computed per bootstrap replicate (each with its own refitted reference), so the
  curve is a *mixture* over reference-estimation errors -- the replicates whose
  reference came out biased dominate the far tail, as they should. Theta is divided
  by the replicate's long-run variance factor (left-over autocorrelation). C is
  matched to alarms actually counted in the simulation at moderate thresholds.
* Window statistics scaled to be chi-square-like have exponential tails; the mean
  excess over the 90th percentile extrapolates them (slightly conservative for
  chi-square, exact for Kolmogorov's sqrt(n) D squared).
"""

from __future__ import annotations

import numpy as np

H_GRID = np.arange(0.0, 80.5, 0.5)
SIM_GRID = np.arange(1.0, 16.0, 1.0)
MAX_THETA = 50.0
LRV_LAGS = 10  # persistent residuals (phi misestimated by ~0.1 decays like 0.8^lag)


def long_run_factors(x: np.ndarray, lags: int = 5) -> np.ndarray:
    """Bartlett-weighted long-run / short-run variance ratio of each row (one value per replicate)."""
    xc = x - x.mean(axis=1, keepdims=True)
    var = np.maximum(np.mean(xc * xc, axis=1), 1e-12)
    total = np.ones(x.shape[0])
    for lag in range(1, lags + 1):
        total += 2 * (1 - lag / (lags + 1)) * np.mean(xc[:, lag:] * xc[:, :-lag], axis=1) / var
    return np.maximum(total, 1e-3)


def lundberg(x: np.ndarray) -> np.ndarray:
    """Per row, theta > 0 with mean(exp(theta x)) = 1 (0 when the mean is not negative)."""
    mu, var = x.mean(axis=1), np.maximum(x.var(axis=1), 1e-12)
    neg = mu < 0
    theta = np.where(neg, -2 * mu / var, 0.0)

    def g_and_slope(th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = th[:, None] * x
        top = a.max(axis=1, keepdims=True)
        w = np.exp(a - top)
        s = w.sum(axis=1)
        return np.log(s / x.shape[1]) + top[:, 0], (w * x).sum(axis=1) / s

    for _ in range(40):  # move right of the root
        g, _ = g_and_slope(theta)
        low = neg & (g < 0) & (theta < MAX_THETA)
        if not low.any():
            break
        theta = np.where(low, np.minimum(theta * 1.6, MAX_THETA), theta)
    for _ in range(40):  # Newton from the right converges monotonically on a convex function
        g, slope = g_and_slope(theta)
        step = np.where(neg & (theta < MAX_THETA), g / np.maximum(slope, 1e-12), 0.0)
        theta = np.clip(theta - step, 1e-6, MAX_THETA)
        if np.max(np.abs(step)) < 1e-7:
            break
    return np.where(neg, theta, 0.0)


def _shrink(values: np.ndarray, noise_var: float) -> np.ndarray:
    """Pull estimates towards their mean so their spread is the true spread (sampling noise removed)."""
    spread = float(np.var(values))
    factor = np.sqrt(max(spread - noise_var, 0.0) / spread) if spread > 0 else 0.0
    return values.mean() + (values - values.mean()) * factor


def replicate_thetas(x: np.ndarray, k: float, rng: np.random.Generator, shape_n: int = 20_000
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Lundberg roots per replicate for increments ``x - k`` (x: (R, L)), and each replicate's mean drift.

    A replicate differs from another by its refitted reference, which shows up as a
    shifted and rescaled score stream; the shape is common. So each replicate is
    modelled as mean_r + sd_r * (pooled standardised shape), with mean_r and sd_r
    shrunk to remove their sampling noise over L pulls -- otherwise the noise alone
    would fake a spread of references and inflate every threshold.
    """
    r, n = x.shape
    inc = x - k
    tau = _replicate_long_run(inc)
    mean, sd = inc.mean(axis=1), np.maximum(inc.std(axis=1), 1e-9)
    shape = ((inc - mean[:, None]) / sd[:, None]).ravel()
    if shape.size > shape_n:
        shape = rng.choice(shape, shape_n, replace=False)
    kurt = float(np.mean(shape ** 4))
    mean_s = _shrink(mean, float(np.mean(tau * sd ** 2)) / n)
    log_sd = _shrink(np.log(sd), max(kurt - 1.0, 0.0) / (4.0 * n))
    ratio = mean_s / np.exp(log_sd)
    grid = np.linspace(ratio.min(), ratio.max(), 24) if np.ptp(ratio) > 0 else ratio[:1]
    roots = lundberg(grid[:, None] + shape[None, :])
    unit = np.interp(ratio, grid, roots)
    return np.where(ratio < 0, unit / np.exp(log_sd) / tau, 0.0), mean_s


def _replicate_long_run(inc: np.ndarray) -> np.ndarray:
    """Each replicate's own long-run variance factor, its sampling noise shrunk away, at least 1.

    Why per replicate: left-over autocorrelation comes from the refitted reference.
    A pseudo-reference whose AR coefficient came out low (about 1 in 50 replicates
    for a persistent series fitted on one week) leaves residuals whose long-run
    variance is 2-3x their variance, and those replicates set the far tail. A single
    pooled factor averages them away, and the thresholds then fit only the lucky
    references: on one week of AR(1) data with phi 0.8 that gave 2-3 false alarms a
    month. Bartlett's estimator over n pulls has relative variance about 4M / 3n.
    """
    n = inc.shape[1]
    log_tau = np.log(long_run_factors(inc, LRV_LAGS))
    return np.maximum(np.exp(_shrink(log_tau, 4.0 * LRV_LAGS / (3.0 * n))), 1.0)


def count_alarms(x: np.ndarray, k: np.ndarray, grid: np.ndarray = SIM_GRID) -> np.ndarray:
    """Alarms (with restart) per threshold in ``grid`` for one-sided CUSUMs on x of shape (C, R, L)."""
    c, r, n = x.shape
    s = np.zeros((c, r, grid.size))
    counts = np.zeros((c, grid.size))
    kk = np.asarray(k, dtype=float)[:, None, None]
    for t in range(n):
        s = np.maximum(s + x[:, :, t, None] - kk, 0.0)
        hit = s >= grid
        counts += hit.sum(axis=1)
        s[hit] = 0.0
    return counts


def cusum_curves(x: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """log10 false alarms per pull on ``H_GRID`` for each of C sides; x has shape (C, R, L)."""
    c, r, n = x.shape
    counts = count_alarms(x, k)
    curves = np.empty((c, H_GRID.size))
    consts, medians, lows = np.empty(c), np.empty(c), np.empty(c)
    for i in range(c):
        theta, drift = replicate_thetas(x[i], float(k[i]), rng)
        pos = theta > 0
        medians[i], lows[i] = np.median(theta), np.quantile(theta, 0.05)
        mix = np.exp(-np.outer(SIM_GRID, theta[pos])).sum(axis=1) / r
        ok = (SIM_GRID >= 2) & (counts[i] >= 20)
        if not ok.any():
            ok = counts[i] >= 3
        consts[i] = (counts[i][ok].sum() / (r * n * mix[ok].sum()) if ok.any() and mix[ok].sum() > 0
                     else 2 * k[i] ** 2 * np.exp(-2.332 * k[i]))
        rate = consts[i] * np.exp(-np.outer(H_GRID, theta[pos])).sum(axis=1) / r
        if (~pos).any():
            rate += (1.0 / (1.0 + H_GRID[:, None] / np.maximum(drift[~pos][None, :], 1e-3))).sum(axis=1) / r
        curves[i] = np.log10(np.maximum(rate, 1e-300))
    diag = {"theta_median": medians.round(4).tolist(), "theta_p05": lows.round(4).tolist(),
            "rate_constant": consts.round(5).tolist(), "k": np.round(k, 4).tolist(),
            "simulated_alarms_at_h": {str(int(h)): counts[:, j].astype(int).tolist()
                                      for j, h in enumerate(SIM_GRID) if h in (4.0, 8.0, 12.0)}}
    return curves, diag


def threshold_for(curve: np.ndarray, rate: float) -> float:
    """Smallest h on the grid (linearly interpolated in log rate) whose alarm rate is <= ``rate``."""
    target = np.log10(rate)
    below = np.flatnonzero(curve <= target)
    if below.size == 0:
        return float(H_GRID[-1])
    j = int(below[0])
    if j == 0:
        return float(H_GRID[0])
    y0, y1 = curve[j - 1], curve[j]
    frac = (y0 - target) / max(y0 - y1, 1e-12)
    return float(H_GRID[j - 1] + frac * (H_GRID[j] - H_GRID[j - 1]))


def exp_tail(samples: np.ndarray, top: float = 0.1) -> tuple[float, float]:
    """(u, beta): P(V > u) = top and mean excess beta over u."""
    u = float(np.quantile(samples, 1 - top))
    excess = samples[samples > u] - u
    return u, float(max(np.mean(excess) if excess.size else 0.0, 1e-9))


def tail_quantile(u: float, beta: float, alpha: float, top: float = 0.1) -> float:
    """Level exceeded with probability ``alpha`` under the fitted exponential tail."""
    return float(u + beta * np.log(top / min(alpha, top)))
