"""Incremental detection: ``update(model, state, time, values) -> (state, FieldCheck)`` per pull.

The state carries what window methods need (see :mod:`monitoring.drift.state`), so
the caller passes only the new pull. ``check_window`` runs the same methods on an
arbitrary batch of rows (dashboards, backtests, the benchmark) without thinning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from monitoring.drift import anomaly, cusum
from monitoring.drift.core import Residuals, residualize
from monitoring.drift.inputs import CheckInput, CusumSnapshot, TrendSeries, WindowSample
from monitoring.drift.pulls import Pulls, finite_values, group_pulls, iso, to_epoch_seconds
from monitoring.drift.reference import ReferenceModel
from monitoring.drift.registry import run_all
from monitoring.drift.results import FieldCheck
from monitoring.drift.state import DECIMALS, DetectorState, WindowPull, thin
from monitoring.errors import ValidationError


def initial_state(model: ReferenceModel) -> DetectorState:
    """State right after the reference: AR memory from its last pulls, CUSUMs at zero."""
    return DetectorState(0, model.core.last_time, tuple(model.core.history.tolist()), (0.0,) * 8,
                         (None,) * 8, (0.0,) * 8, (0,) * 8, (), ())


def _advance_cusums(model: ReferenceModel, state: DetectorState, res: Residuals, times: np.ndarray,
                    res_offsets: np.ndarray) -> tuple[tuple, tuple, tuple, tuple]:
    h = model.calibration.cusum_h
    overrides = model.config.threshold_overrides
    for name, sides in cusum.SIDES.items():
        if name in overrides:
            h = h.copy()
            h[list(sides)] = overrides[name]
    cap = h * model.config.cusum_cap
    sc = model.core.score_scale
    k = cusum.reference_values(sc.between, sc.within, np.diff(res_offsets), model.config.cusum_k,
                               cusum.gate_scores(model.config.min_effect))
    s = np.array(state.sums, dtype=float)
    starts = list(state.starts)
    esum = np.array(state.effect_sums, dtype=float)
    ecount = np.array(state.effect_counts, dtype=np.int64)
    inc = cusum.signed_scores(res.scores)
    for j in range(times.size):
        new = cusum.step(s, inc[j], k[j], cap)
        for i in range(8):
            if new[i] <= 0.0:
                starts[i], esum[i], ecount[i] = None, 0.0, 0
            else:
                if s[i] <= 0.0:
                    starts[i] = float(times[j])
                esum[i] += res.raw_means[j, i // 2]
                ecount[i] += 1
        s = new
    effects = np.where(ecount > 0, esum / np.maximum(ecount, 1), 0.0)
    snap = CusumSnapshot(s, tuple(starts), effects, h)
    return snap, tuple(s.tolist()), tuple(starts), (tuple(esum.tolist()), tuple(ecount.tolist()))


def _inputs(model: ReferenceModel, at: float, snap: CusumSnapshot, window: WindowSample | None,
            window_reason: str | None, trend: TrendSeries | None, trend_reason: str | None) -> CheckInput:
    return CheckInput(model.core, at, window, window_reason, trend, trend_reason, snap,
                      model.calibration.params)


def _trend(rows: Sequence[tuple[float, float, float]], need: int) -> tuple[TrendSeries | None, str | None]:
    if len(rows) < need:
        return None, f"trend window filling: {len(rows)}/{need} pulls"
    arr = np.asarray(rows, dtype=float)
    return TrendSeries(arr[:, 0], arr[:, 1], arr[:, 2]), None


def update(model: ReferenceModel, state: DetectorState | None, time: Any, values: Any
           ) -> tuple[DetectorState, FieldCheck]:
    """Fold one pull (time, row values) into the state and check the field."""
    state = state or initial_state(model)
    t = float(to_epoch_seconds(time)[0])
    x = finite_values(values, f"{model.field or 'field'} values")
    if x.size == 0:
        raise ValidationError(f"pull at {iso(t)} has no rows for {model.field}; skip the field instead")
    if state.last_time is not None and t <= state.last_time:
        raise ValidationError(f"pull at {iso(t)} is not after the last one checked ({iso(state.last_time)}) "
                              f"for {model.field}; each pull must be checked once, in time order")
    cfg, core = model.config, model.core
    res = residualize(core, Pulls(np.array([t]), np.array([0, x.size]), x), np.array(state.history),
                      state.last_time)
    snap, sums, starts, (esum, ecount) = _advance_cusums(model, state, res, np.array([t]),
                                                         np.array([0, x.size]))
    z = np.abs(core.robust_z(res.resid))
    cap = max(1, cfg.window_row_cap // cfg.window_pulls)
    pull = WindowPull(t, int(x.size), int(np.sum(z > core.outlier_z)), tuple(thin(res.resid, cap).tolist()))
    window = (*state.window, pull)[-cfg.window_pulls:]
    trend = (*state.trend, (t, round(float(res.resid_mean[0]), 6), round(float(res.dev[0]), 6)))
    trend = trend[-cfg.trend_window_pulls:]
    p = core.phi.size
    history = (*state.history, float(res.dev[0]))[-p:] if p else ()
    counts = (*state.counts, (pull.rows, pull.outliers))[-anomaly.longest_horizon(cfg.window_pulls):]
    new_state = DetectorState(state.pulls_seen + 1, t, tuple(history), sums, starts, esum, ecount,
                              window, trend, counts)
    sample, reason = None, f"window filling: {len(window)}/{cfg.window_pulls} pulls"
    if len(window) >= cfg.window_pulls:
        sample = WindowSample.build([np.asarray(w.values) for w in window], [w.rows for w in window],
                                    sum(w.outliers for w in window), float(z.max()),
                                    anomaly.horizon_counts(counts, cfg.window_pulls))
        reason = None
    tr, tr_reason = _trend(trend, cfg.trend_window_pulls)
    results = run_all(_inputs(model, t, snap, sample, reason, tr, tr_reason), cfg.threshold_overrides,
                      cfg.min_effect)
    return new_state, FieldCheck.make(model.field, t, results, int(x.size))


def check_window(model: ReferenceModel, times: Any, values: Any, *, pull_ids: Any = None,
                 min_pulls: int = 3) -> FieldCheck:
    """All methods on one batch of rows: the window is exactly these rows, CUSUMs run over their pulls."""
    pulls = group_pulls(times, values, pull_ids)
    core = model.core
    last = core.last_time if pulls.times[0] > core.last_time else None
    res = residualize(core, pulls, core.history if last is not None else np.zeros(0), last)
    snap, *_ = _advance_cusums(model, initial_state(model), res, pulls.times, pulls.offsets)
    z = np.abs(core.robust_z(res.resid))
    at = float(pulls.times[-1])
    sample, reason = None, f"window has {pulls.n_pulls} pulls; at least {min_pulls} needed"
    if pulls.n_pulls >= min_pulls:
        last_rows = z[pulls.offsets[-2]:]
        resid_sorted = np.sort(res.resid)
        sample = WindowSample(resid_sorted, None, pulls.n_rows, pulls.n_pulls,
                              int(np.sum(z > core.outlier_z)), float(last_rows.max()))
        reason = None
    t_rows = list(zip(pulls.times.tolist(), np.round(res.resid_mean, DECIMALS + 2).tolist(),
                      res.dev.tolist(), strict=True))[-model.config.trend_window_pulls:]
    tr, tr_reason = _trend(t_rows, 10)
    results = run_all(_inputs(model, at, snap, sample, reason, tr, tr_reason),
                      model.config.threshold_overrides, model.config.min_effect)
    return FieldCheck.make(model.field, at, results, int(pulls.sizes[-1]))
