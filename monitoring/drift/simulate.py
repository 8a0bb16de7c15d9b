"""Sieve bootstrap of the reference: new streams that behave like it, for calibration.

Pull-level deviations are rebuilt by running the fitted AR filter on resampled
pull innovations (so persistence is kept), the fitted profile is added back, and
rows get resampled within-pull deviations (so batch noise and its shape are kept).

With several rows per pull, a pull mean already carries the mean of its rows' own
noise (variance within / m). So the resampled innovations are shrunk to their
*between-pull* part and the rows' deviations are added without re-centring: the
simulated pull means then have variance between + within / m, as the reference's
own scale model says. (Re-centring the rows on unshrunk innovations gave pull means
whose variance was the 168-pull sample variance of the reference's innovations --
often below within / m, i.e. a world without row noise in the pull means: every
simulated score came out narrower than real ones, e.g. sd 0.91 at 20 rows, and
the thresholds too low.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    innov = innov - innov.mean()
    if within.size == 0:
        batch = 1
    else:
        within = within - within.mean()
        # Row noise enters a pull's innovation as its mean, through 1 - phi(B): variance
        # within / m * (1 + sum phi^2). What is left is the between-pull innovation.
        noise = (float(np.mean(within ** 2)) * float(np.mean(1.0 / sizes))
                 * (1.0 + float(np.sum(core.phi ** 2))))
        total = float(np.mean(innov ** 2))
        innov = innov * (np.sqrt(max(total - noise, 0.0) / total) if total > 0 else 0.0)
    return Sieve(core, innov, within, batch)


def ar_filter(e: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """y[t] = e[t] + sum_k phi[k] y[t-1-k] along axis 1, from rest (scipy.signal.lfilter([1], [1, -phi], e)).

    A loop over time, vectorised over replicates: a few ms for a month of hourly pulls,
    where importing scipy.signal alone cost 0.8 s of the first cycle.
    """
    p = phi.size
    if p == 0:
        return e.copy()
    y = np.zeros((e.shape[0], e.shape[1] + p))
    coef = phi[::-1]  # y[t-p] ... y[t-1]
    for t in range(e.shape[1]):
        y[:, t + p] = e[:, t] + y[:, t:t + p] @ coef
    return y[:, p:]


def simulate(sv: Sieve, times: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates, pulls, batch) simulated values at pull times ``times``."""
    n = times.size
    e = rng.choice(sv.innovations, size=(replicates, BURN_IN + n))
    dev = ar_filter(e, sv.core.phi)[:, BURN_IN:]
    level = sv.core.profile(times)[None, :] + dev
    if sv.batch == 1:
        return level[..., None]
    return level[..., None] + rng.choice(sv.within, size=(replicates, n, sv.batch))
