"""Two-sided CUSUMs on standardised pull scores, with the change start as a by-product.

Why CUSUM: for a persistent shift it is the fastest detector at a given false-alarm
rate (Lorden/Moustakides), and the point where the current excursion left zero is a
good estimate of when the change began. Sums are capped (``cap`` x threshold) so the
alarm clears in bounded time once the process is back to normal, and are not reset
on alarm, so one change gives one alert episode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from monitoring.drift.inputs import CheckInput
from monitoring.drift.pulls import iso
from monitoring.drift.results import MethodResult, severity_for

# Which of the eight one-sided sums each method owns: index = 2 * score + (0 up, 1 down).
SIDES: Mapping[str, tuple[int, ...]] = {"cusum_location": (0, 1), "cusum_scale": (2, 3),
                                        "cusum_shape": (4, 5, 6, 7)}
SIDE_NAMES = ("location up", "location down", "scale up", "scale down",
              "skew right", "skew left", "heavier tails", "lighter tails")
_CUTS = {"cusum_location": (0.5, 1.0), "cusum_scale": (0.2, 0.5), "cusum_shape": (0.2, 0.4)}


# Per-row change each score should be tuned to, in raw score units: a 1 sd shift, a variance
# change of about x2.4 (He2 mean 1), a clear skew / tail change (He3 or He4 mean 1). Why not
# smaller scale and shape targets: with one row per pull their scores are skewed and a week's
# reference leaves them uncertain, so at k = 0.25-0.3 the calibrated threshold ran to the end
# of the grid (80) and a doubled sd took 2-4 days to flag; at k = 0.5 it is 30-50 and flags
# in 1-3. Small scale changes were not caught within a week at k = 0.3 either.
CANONICAL_EFFECT = np.array([1.0, 1.0, 1.0, 1.0])


def gate_scores(min_effect: Mapping[str, float]) -> np.ndarray:
    """The min-effect floors of the three CUSUM methods in raw score units, per score (4,)."""
    scale = float(min_effect["cusum_scale"])
    he2 = min(np.expm1(2 * scale), -np.expm1(-2 * scale)) / np.sqrt(2.0)
    shape = float(min_effect["cusum_shape"])
    return np.array([float(min_effect["cusum_location"]), he2, shape, shape])


def reference_values(between: np.ndarray, within: np.ndarray, batch: np.ndarray | float, k_max: float,
                     gates: np.ndarray) -> np.ndarray:
    """k per one-sided sum (last axis 8) for pulls of ``batch`` rows, in standardised pull units.

    Two rules, the larger wins. Design: half the canonical change (classic k = delta/2,
    capped at ``k_max``). Gate: a drift smaller than the
    method's minimum effect must not accumulate at all, however many rows a pull has
    -- otherwise a trivially small error in the reference level (unavoidable with a
    week of data) becomes a steady drift for big batches and, sooner or later, an alarm.
    """
    sd_pull = np.sqrt(between + within / np.maximum(np.asarray(batch, dtype=float)[..., None], 1.0))
    design = np.minimum(k_max, np.maximum(CANONICAL_EFFECT / sd_pull / 2, 0.1))
    return np.repeat(np.maximum(design, gates / sd_pull), 2, axis=-1)


def signed_scores(u: np.ndarray) -> np.ndarray:
    """(..., 4) standardised scores -> (..., 8) increments of the up/down sums."""
    return np.stack([u, -u], axis=-1).reshape(*u.shape[:-1], 8)


def step(s: np.ndarray, x: np.ndarray, k: float, cap: np.ndarray | float) -> np.ndarray:
    """One CUSUM update: max(0, s + x - k), capped."""
    return np.minimum(np.maximum(s + x - k, 0.0), cap)


def path(x: np.ndarray, k: float, cap: float = np.inf) -> np.ndarray:
    """Whole path of a one-sided CUSUM over increments ``x`` (for plots and tests)."""
    out = np.empty(x.size)
    s = 0.0
    for i, xi in enumerate(x):
        s = min(max(s + xi - k, 0.0), cap)
        out[i] = s
    return out


def effect_of(name: str, side: int, raw_mean: float) -> float:
    """Effect size of one side from its mean raw score since the excursion began."""
    if name == "cusum_scale":
        return 0.5 * float(np.log(max(1.0 + np.sqrt(2.0) * raw_mean, 1e-3)))
    return float(raw_mean)


def method_for(name: str):
    def method(inp: CheckInput, params: Mapping[str, Any], override: float | None, default: float,
               min_effect: float) -> MethodResult:
        snap = inp.cusum
        assert snap is not None
        sides = SIDES[name]
        h = np.array([override if override is not None else snap.thresholds[i] for i in sides])
        ratio = snap.values[list(sides)] / h
        best = int(np.argmax(ratio))
        side = sides[best]
        effects = [effect_of(name, i, snap.effects[i]) for i in sides]
        drifted = bool(ratio[best] >= 1.0 and abs(effects[best]) >= min_effect)
        start = snap.starts[side]
        return MethodResult(
            name=name, kind="drift", statistic=float(ratio[best]), threshold=1.0, drifted=drifted,
            effect_size=effects[best], severity=severity_for(effects[best], _CUTS[name]) if drifted else None,
            details={"direction": SIDE_NAMES[side], "sums": [float(snap.values[i]) for i in sides],
                     "thresholds": [float(x) for x in h], "effects": effects,
                     "change_started_at": iso(start) if start is not None else None,
                     "statistic_units": "sum / threshold", "min_effect": min_effect})
    method.__name__ = name
    return method
