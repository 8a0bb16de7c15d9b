"""Per-row scores on the reference's own scale, and their pull-level standardisation.

Each residual is mapped through the reference's empirical CDF (PIT) and then to a
normal score z. The first four Hermite polynomials of z are orthonormal under the
reference: their pull means track location, scale, skewness and tail weight. Why
this and not raw moments: a normal-scores location test is at least as efficient as
the t-test for every distribution (Chernoff-Savage) yet bounded, so one heavy-tailed
value cannot push a CUSUM over its threshold; and the same four scores cover shift,
variance and shape changes (bimodal, skewed) with one calibrated machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from monitoring.drift.ecdf import ranks

N_SCORES = 4
SCORE_NAMES = ("location", "scale", "skew", "tails")
_NORM = np.sqrt(np.array([1.0, 2.0, 6.0, 24.0]))


def pit(sketch: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mid-rank empirical CDF of ``x`` against the sorted reference ``sketch``, kept inside (0, 1)."""
    s = sketch.size
    left, right = ranks(sketch, x)
    return np.clip((left + right) / (2.0 * s), 0.5 / s, 1 - 0.5 / s)


def hermite(z: np.ndarray) -> np.ndarray:
    """(n, 4) orthonormal probabilists' Hermite scores He1..He4 of z."""
    z2 = z * z
    out = np.empty((z.size, N_SCORES))
    out[:, 0] = z
    out[:, 1] = z2 - 1.0
    out[:, 2] = z * (z2 - 3.0)
    out[:, 3] = z2 * z2 - 6.0 * z2 + 3.0
    return out / _NORM


def row_scores(sketch: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    return hermite(ndtri(pit(sketch, residuals)))


def pull_means(scores: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(P, 4) mean score per pull."""
    sizes = np.diff(offsets)[:, None]
    return np.add.reduceat(scores, offsets[:-1], axis=0) / sizes


@dataclass(frozen=True)
class ScoreScale:
    """Mean and variance model var(pull mean) = between + within / m for each score."""

    mean: np.ndarray
    between: np.ndarray
    within: np.ndarray

    def standardise(self, means: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        var = self.between[None, :] + self.within[None, :] / np.asarray(sizes, dtype=float)[:, None]
        return (means - self.mean[None, :]) / np.sqrt(var)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "between": self.between.tolist(),
                "within": self.within.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> ScoreScale:
        return cls(np.asarray(d["mean"], float), np.asarray(d["between"], float),
                   np.asarray(d["within"], float))


def fit_scale(scores: np.ndarray, offsets: np.ndarray, n_params: int) -> ScoreScale:
    """Variance components of the reference's in-sample scores (df-corrected for fitted parameters).

    With one row per pull the split is not identifiable; all variance is then treated
    as row-level, i.e. rows of later, bigger pulls are assumed conditionally independent.
    """
    sizes = np.diff(offsets).astype(float)
    means = pull_means(scores, offsets)
    n_pulls = sizes.size
    inflate = n_pulls / max(n_pulls - n_params, 1)
    centre = np.average(means, axis=0, weights=sizes)
    multi = sizes >= 2
    if np.any(multi):
        dev = scores - np.repeat(means, sizes.astype(int), axis=0)
        within = np.sum(dev ** 2, axis=0) / np.sum(sizes - 1)
        var_means = np.mean((means - centre) ** 2, axis=0) * inflate
        between = np.maximum(var_means - within * np.mean(1.0 / sizes), 0.0)
    else:
        within = np.mean((means - centre) ** 2, axis=0) * inflate
        between = np.zeros(N_SCORES)
    within = np.maximum(within, 1e-6)
    return ScoreScale(centre, between, within)
