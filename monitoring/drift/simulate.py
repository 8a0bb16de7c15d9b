"""Sieve bootstrap of the reference: new streams that behave like it, for calibration.

Pull-level deviations are rebuilt by running the fitted AR filter on resampled
pull innovations (so persistence is kept), the fitted profile is added back, and
rows get resampled within-pull deviations (so batch noise and its shape are kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from monitoring.drift.ar import forecasts
from monitoring.drift.core import ReferenceCore, gap_resets
from monitoring.drift.pulls import Pulls

BURN_IN = 200


@dataclass(frozen=True)
class Sieve:
    core: ReferenceCore
    innovations: np.ndarray
    within: np.ndarray
    batch: int


def sieve(core: ReferenceCore, pulls: Pulls, max_rows: int) -> Sieve:
    """Centred pull innovations and pooled within-pull deviations of the reference."""
    sizes = pulls.sizes
    means = pulls.means()
    dev = means - core.profile(pulls.times)
    resets = gap_resets(pulls.times, None, core.interval, core.max_gap_pulls)
    innov = dev - forecasts(dev, core.phi, np.zeros(0), resets)
    innov = innov[core.phi.size:] if innov.size > core.phi.size + 10 else innov
    multi = np.repeat(sizes >= 2, sizes)
    within = (pulls.values - np.repeat(means, sizes))
    within = within[multi] * np.sqrt(np.repeat(sizes / np.maximum(sizes - 1, 1), sizes))[multi]
    batch = int(min(max_rows, max(1, round(float(np.median(sizes))))))
    if within.size == 0:
        batch = 1
    return Sieve(core, innov - innov.mean(), within - within.mean() if within.size else within, batch)


def simulate(sv: Sieve, times: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates, pulls, batch) simulated values at pull times ``times``."""
    n = times.size
    e = rng.choice(sv.innovations, size=(replicates, BURN_IN + n))
    phi = sv.core.phi
    dev = lfilter([1.0], np.concatenate(([1.0], -phi)), e, axis=1)[:, BURN_IN:] if phi.size else e[:, BURN_IN:]
    level = sv.core.profile(times)[None, :] + dev
    if sv.batch == 1:
        return level[..., None]
    w = rng.choice(sv.within, size=(replicates, n, sv.batch))
    w -= w.mean(axis=2, keepdims=True)
    return level[..., None] + w
