"""Thresholds learned from the reference itself, to a false-alarm budget held with high confidence.

Semantics of the budget (setting ``false_alarms_per_30d`` = B, default 1):

* B is a per-field ceiling, not a target. Thresholds are set so that the *expected*
  number of false-alarm episodes per field per 30 days, on data that behave like the
  reference, is at most ``B / assurance`` (``assurance`` = A, default 50: 0.02 per
  month, i.e. a clean month with about 98% probability). Why the margin: the
  bootstrap can only reproduce what the reference showed (one week of it by
  default); an unmodelled cycle, a heavier tail than observed or a slow regime
  change all add false alarms it cannot see. Calibrating the expected rate to exactly
  B would leave no room for them and, by construction, alarm about once a month.
* "Data like the reference" is a sieve bootstrap: the fitted profile + AR filter
  driven by resampled innovations and within-pull deviations. Every replicate
  re-fits the whole reference (profile selection, AR order, quantiles, scales) on
  a pseudo-reference of the same size and then monitors a pseudo-future of
  ``bootstrap_days``, so the error of estimating the reference is included.
* Multiplicity: the field's design rate B/A is split across methods by the
  registry weights (Bonferroni; the union bound makes the field total <= B/A), and
  a CUSUM method's share is split again across its one-sided sums. Fields are not
  split further: the setting is per field, so F fields may raise up to F*B per 30 days.
* Window methods (KS, PSI, Wasserstein, JS) and p-value methods are checked at every
  pull with overlapping windows; each check gets the method's whole per-pull share
  (alpha = share / pulls per 30 days), which over-counts clustered exceedances, so the
  episode rate is below the share.
* Rates are per pull and converted with the pull interval of the reference; if the
  interval changes, call :func:`retarget` (no refit needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from monitoring.drift import alarm_rates as ar
from monitoring.drift.batch import bin_counts_many, ks_many, wasserstein_many
from monitoring.drift.config import DriftConfig
from monitoring.drift.core import ReferenceCore, fit_core, residualize
from monitoring.drift.cusum import gate_scores, reference_values, signed_scores
from monitoring.drift.jensen_shannon import js_rows
from monitoring.drift.mann_kendall import mk_z_many
from monitoring.drift.psi import psi_rows, smoothed
from monitoring.drift.pulls import Pulls
from monitoring.drift.registry import BY_NAME, CUSUM_WEIGHTS, DISTANCES, PVALUE_METHODS
from monitoring.drift.simulate import sieve, simulate

THIRTY_DAYS = 30 * 86_400.0


@dataclass(frozen=True)
class Calibration:
    """Alarm-rate curves learned by bootstrap, and the thresholds they give for one budget."""

    budget_per_30d: float
    assurance: float
    pulls_per_30d: float
    replicates: int
    horizon_pulls: int
    cusum_log10_rate: np.ndarray
    tails: Mapping[str, tuple[float, float]]
    mk_inflation: float
    cusum_k: np.ndarray
    cusum_h: np.ndarray = field(default_factory=lambda: np.zeros(8))
    params: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def design_rate_per_pull(self) -> float:
        return self.budget_per_30d / self.assurance / self.pulls_per_30d

    def to_dict(self) -> dict[str, Any]:
        return {"budget_per_30d": self.budget_per_30d, "assurance": self.assurance,
                "pulls_per_30d": self.pulls_per_30d, "replicates": self.replicates,
                "horizon_pulls": self.horizon_pulls,
                "cusum_log10_rate": np.round(self.cusum_log10_rate, 4).tolist(),
                "tails": {k: list(v) for k, v in self.tails.items()}, "mk_inflation": self.mk_inflation,
                "cusum_k": self.cusum_k.tolist(),
                "cusum_h": self.cusum_h.tolist(), "params": {k: dict(v) for k, v in self.params.items()},
                "diagnostics": dict(self.diagnostics)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Calibration:
        return cls(d["budget_per_30d"], d["assurance"], d["pulls_per_30d"], d["replicates"],
                   d["horizon_pulls"], np.asarray(d["cusum_log10_rate"], dtype=float),
                   {k: (float(v[0]), float(v[1])) for k, v in d["tails"].items()},
                   float(d["mk_inflation"]), np.asarray(d["cusum_k"], dtype=float),
                   np.asarray(d["cusum_h"], dtype=float),
                   {k: dict(v) for k, v in d["params"].items()}, dict(d.get("diagnostics", {})))


def retarget(cal: Calibration, budget_per_30d: float, assurance: float, pulls_per_30d: float
             ) -> Calibration:
    """Thresholds for another budget / interval from the stored curves (no re-simulation)."""
    cal = replace(cal, budget_per_30d=budget_per_30d, assurance=assurance, pulls_per_30d=pulls_per_30d)
    rate = cal.design_rate_per_pull
    h = np.array([ar.threshold_for(cal.cusum_log10_rate[i], rate * w) for i, w in enumerate(CUSUM_WEIGHTS)])
    params: dict[str, dict[str, float]] = {}
    for name in DISTANCES:
        alpha = rate * BY_NAME[name].weight
        if name in cal.tails:
            u, beta = cal.tails[name]
            params[name] = {"c": ar.tail_quantile(u, beta, alpha), "alpha": alpha}
    for name in PVALUE_METHODS:
        params[name] = {"alpha": rate * BY_NAME[name].weight}
    params["mann_kendall"]["var_inflation"] = cal.mk_inflation
    return replace(cal, cusum_h=h, params=params)


def _window_stats(core: ReferenceCore, resid: np.ndarray, window: int, batch: int) -> np.ndarray:
    """(n_windows, 4) size-scaled KS, PSI, W1, JS on non-overlapping windows of residual rows."""
    per = window * batch
    n_win = resid.size // per
    rows = np.sort(resid[:n_win * per].reshape(n_win, per), axis=1)
    n_ref = core.n_eff(core.n_rows, core.n_pulls)
    n_cur = core.n_eff(per, window)
    n_h = n_ref * n_cur / (n_ref + n_cur)
    sk = core.sketch
    counts = bin_counts_many(core.edges, rows)
    psis = psi_rows(core.ref_props, smoothed(counts / per, per))
    return n_h * np.column_stack((ks_many(sk, rows) ** 2, psis,
                                  wasserstein_many(sk, np.clip(rows, sk[0], sk[-1])) ** 2,
                                  js_rows(core.ref_props, counts) ** 2))


def calibrate(core: ReferenceCore, pulls: Pulls, config: DriftConfig, rng: np.random.Generator
              ) -> Calibration:
    """Bootstrap the reference (with re-fitting) and derive every threshold for ``config``'s budget."""
    sv = sieve(core, pulls, config.bootstrap_max_rows_per_pull)
    reps = config.bootstrap_replicates
    horizon = max(int(round(config.bootstrap_days * 86_400.0 / core.interval)),
                  config.trend_window_pulls, config.window_pulls)
    future_t = core.last_time + core.interval * np.arange(1, horizon + 1)
    n_ref = pulls.n_pulls
    sim = simulate(sv, np.concatenate((pulls.times, future_t)), reps, rng)
    b = sv.batch
    ref_off = np.arange(n_ref + 1) * b
    fut_off = np.arange(horizon + 1) * b
    scores = np.empty((reps, horizon, 4))
    windows, mk_windows = [], []
    t_win = config.trend_window_pulls
    for r in range(reps):
        pseudo = fit_core(Pulls(pulls.times, ref_off, sim[r, :n_ref].ravel()), config)
        res = residualize(pseudo, Pulls(future_t, fut_off, sim[r, n_ref:].ravel()),
                          pseudo.history, pseudo.last_time)
        scores[r] = res.scores
        windows.append(_window_stats(pseudo, res.resid, config.window_pulls, b))
        mk_windows += [res.resid_mean[j:j + t_win] for j in range(0, horizon - t_win + 1, t_win)]
    x = np.moveaxis(signed_scores(scores), -1, 0)  # (8, R, L)
    sc = core.score_scale
    k = reference_values(sc.between, sc.within, float(b), config.cusum_k, gate_scores(config.min_effect))
    curves, diag = ar.cusum_curves(x, k, rng)
    stats = np.concatenate(windows)
    tails = {name: ar.exp_tail(stats[:, i]) for i, name in enumerate(DISTANCES)} if len(stats) >= 50 else {}
    z = mk_z_many(np.stack(mk_windows)) if mk_windows else np.zeros(0)
    diag.update({"location_bias_sd": round(float(np.std(scores[:, :, 0].mean(axis=1))), 4),
                 "score_sd": np.round(scores.reshape(-1, 4).std(axis=0), 4).tolist(),
                 "simulated_batch": b, "window_samples": int(len(stats)), "mk_samples": int(z.size)})
    cal = Calibration(config.false_alarms_per_30d, config.assurance, THIRTY_DAYS / core.interval, reps,
                      horizon, curves, tails, float(max(1.0, np.mean(z ** 2))) if z.size else 1.0,
                      k, diagnostics=diag)
    return retarget(cal, config.false_alarms_per_30d, config.assurance, THIRTY_DAYS / core.interval)
