"""The fitted, uncalibrated part of a reference: profile, AR filter, residual distribution.

``fit_core`` is also what the calibration bootstrap re-runs on every pseudo-reference,
so everything here must be cheap and deterministic. ``residualize`` is the one code
path that turns pulls into standardised residuals and scores, shared by the live
detector, the batch check and the bootstrap, so calibration sees exactly what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from monitoring.drift import seasonal
from monitoring.drift.ar import fit_ar, forecasts
from monitoring.drift.config import DriftConfig
from monitoring.drift.pulls import Pulls
from monitoring.drift.scores import ScoreScale, fit_scale, pull_means, row_scores

PSI_BINS = 10
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class ReferenceCore:
    """What one reference fit learned; all residual quantities are in units of ``scale``."""

    interval: float
    terms: tuple[tuple[float, int], ...]
    coef: np.ndarray
    phi: np.ndarray
    history: np.ndarray
    start_time: float
    last_time: float
    scale: float
    value_sd: float
    sketch: np.ndarray
    n_rows: int
    n_pulls: int
    median: float
    mad: float
    outliers: int
    outlier_z: float
    edges: np.ndarray
    ref_props: np.ndarray
    score_scale: ScoreScale
    icc: float
    mean_batch: float
    max_gap_pulls: float

    @property
    def level(self) -> float:
        return float(self.coef[0])

    def profile(self, t: np.ndarray) -> np.ndarray:
        return seasonal.evaluate(t, self.terms, self.coef)

    def robust_z(self, resid_std: np.ndarray) -> np.ndarray:
        return (resid_std - self.median) / (MAD_TO_SD * self.mad)

    def n_eff(self, n_rows: float, n_pulls: int) -> float:
        """Effective sample size of ``n_rows`` residuals in ``n_pulls`` pulls (within-pull correlation)."""
        m = n_rows / max(n_pulls, 1)
        return float(n_rows / (1.0 + max(m - 1.0, 0.0) * self.icc))

    def to_dict(self) -> dict[str, Any]:
        arrays = ("coef", "phi", "history", "sketch", "edges", "ref_props")
        out: dict[str, Any] = {k: getattr(self, k).tolist() for k in arrays}
        for k in ("interval", "start_time", "last_time", "scale", "value_sd", "n_rows", "n_pulls",
                  "median", "mad", "outliers", "outlier_z", "icc", "mean_batch", "max_gap_pulls"):
            out[k] = getattr(self, k)
        out["terms"] = [list(t) for t in self.terms]
        out["score_scale"] = self.score_scale.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferenceCore:
        kw = dict(d)
        for k in ("coef", "phi", "history", "sketch", "edges", "ref_props"):
            kw[k] = np.asarray(d[k], dtype=np.float64)
        kw["terms"] = tuple((float(p), int(k)) for p, k in d["terms"])
        kw["score_scale"] = ScoreScale.from_dict(d["score_scale"])
        return cls(**kw)


@dataclass(frozen=True)
class Residuals:
    """Pulls seen through a core: standardised residual rows, scores and pull-level series."""

    resid: np.ndarray      # (N,) standardised residual rows
    scores: np.ndarray     # (P, 4) standardised pull scores U
    raw_means: np.ndarray  # (P, 4) unstandardised mean scores (effect sizes)
    dev: np.ndarray        # (P,) deseasonalised pull-mean deviation from the level, value units
    resid_mean: np.ndarray  # (P,) mean standardised residual per pull (prewhitened level)


def gap_resets(times: np.ndarray, last_time: float | None, interval: float, max_gap: float) -> np.ndarray:
    prev = np.concatenate(([last_time if last_time is not None else times[0]], times[:-1]))
    return (times - prev) > max_gap * interval


def residualize(core: ReferenceCore, pulls: Pulls, history: np.ndarray,
                last_time: float | None, with_scores: bool = True) -> Residuals:
    """Residuals of ``pulls`` given the deviations (``history``) and time of the pull before them."""
    sizes = pulls.sizes
    prof = core.profile(pulls.times)
    dev = pulls.means() - prof
    resets = gap_resets(pulls.times, last_time, core.interval, core.max_gap_pulls)
    fc = forecasts(dev, core.phi, history, resets)
    resid = (pulls.values - np.repeat(prof + fc, sizes)) / core.scale
    resid_mean = np.add.reduceat(resid, pulls.offsets[:-1]) / sizes
    if not with_scores:
        return Residuals(resid, np.zeros((0, 4)), np.zeros((0, 4)), dev, resid_mean)
    raw = pull_means(row_scores(core.sketch, resid), pulls.offsets)
    return Residuals(resid, core.score_scale.standardise(raw, sizes), raw, dev, resid_mean)


def _sketch(sorted_values: np.ndarray, size: int) -> np.ndarray:
    n = sorted_values.size
    if n <= size:
        return sorted_values.copy()
    return sorted_values[((np.arange(size) + 0.5) * n / size).astype(np.int64)]


def fit_core(pulls: Pulls, config: DriftConfig) -> ReferenceCore:
    """Fit profile, AR filter and residual distribution on reference pulls (no calibration)."""
    t = pulls.times
    interval = (config.pull_interval_minutes * 60.0 if config.pull_interval_minutes
                else float(np.median(np.diff(t))) if t.size > 1 else 3600.0)
    means = pulls.means()
    candidates = seasonal.candidate_terms(float(t[-1] - t[0] + interval), interval,
                                          config.max_daily_harmonics, config.max_weekly_harmonics)
    terms, coef = seasonal.fit_profile(t, means, candidates, config.harmonic_alpha, config.max_ar_order)
    prof = seasonal.evaluate(t, terms, coef)
    dev = means - prof
    phi, _ = fit_ar(dev, config.max_ar_order)
    resets = gap_resets(t, None, interval, config.max_gap_pulls)
    fc = forecasts(dev, phi, np.zeros(0), resets)
    sizes = pulls.sizes
    raw_resid = pulls.values - np.repeat(prof + fc, sizes)
    scale = float(np.std(raw_resid)) or 1.0
    resid = raw_resid / scale
    ordered = np.sort(resid)
    sketch = _sketch(ordered, config.sketch_size)
    median = float(np.median(resid))
    mad = float(np.median(np.abs(resid - median))) or float(np.std(resid)) / MAD_TO_SD or 1.0
    z = (resid - median) / (MAD_TO_SD * mad)
    edges = np.unique(np.quantile(resid, np.arange(1, PSI_BINS) / PSI_BINS))
    counts = np.bincount(np.searchsorted(edges, resid, side="right"), minlength=edges.size + 1)
    n_params = 1 + 2 * len(terms) + phi.size
    offsets = pulls.offsets
    score_scale = fit_scale(row_scores(sketch, resid), offsets, n_params)
    rmean = np.add.reduceat(resid, offsets[:-1]) / sizes
    multi = sizes >= 2
    icc = 0.0
    if np.any(multi):
        within = float(np.sum((resid - np.repeat(rmean, sizes)) ** 2) / np.sum(sizes - 1))
        between = max(float(np.var(rmean)) - within * float(np.mean(1.0 / sizes)), 0.0)
        icc = between / max(between + within, 1e-12)
    return ReferenceCore(
        interval=interval, terms=tuple(terms), coef=coef, phi=phi,
        history=dev[-phi.size:] if phi.size else np.zeros(0), start_time=float(t[0]),
        last_time=float(t[-1]), scale=scale, value_sd=float(np.std(pulls.values - np.repeat(prof, sizes))),
        sketch=sketch, n_rows=pulls.n_rows, n_pulls=pulls.n_pulls, median=median, mad=mad,
        outliers=int(np.sum(np.abs(z) > config.outlier_z)), outlier_z=config.outlier_z, edges=edges,
        ref_props=counts / counts.sum(), score_scale=score_scale, icc=icc,
        mean_batch=float(np.mean(sizes)), max_gap_pulls=config.max_gap_pulls)
