#!/usr/bin/env python3
"""Held-out-style drift streams for ``../shared/drift-bench/score.py``.

Writes CSVs in the public benchmark's replay format
(``predicted_at,archived_gb_predicted,savings_gb_predicted``; rows sharing a
``predicted_at`` are one pull; hourly pulls; 45 days from Monday 2026-01-05) and a
``truth.json`` in the same format (``kind``, ``days``, ``batch``, ``change_at``, the
change at day 22 or null), into the folder you give::

    .venv/bin/python bench/drift_streams.py bench/out/heldout --seed 1
    .venv/bin/python ../shared/drift-bench/score.py bench/out/heldout

Levels and noise follow the public streams: archived about N(500, 40) per row,
savings about N(120, 15) per row and independent of archived (the public files show
no correlation), iid rows within a pull (pull-mean sd = 40 / sqrt(batch)), a daily
cycle of amplitude 60 (1.5 sd), AR(1) with phi 0.8, shifts and scale changes in units
of the row sd. ``savings_gb_predicted`` never changes: in most streams it is iid
normal as in the public files; streams marked ``savings="like"`` give it the same
*stationary* structure as archived before the change (its own draws: cycles, AR,
heavy tails, pull effects), which is a stricter false-alarm test.

Every stream gets its own generator, ``numpy.random.default_rng([seed, crc32(name)])``,
so adding a stream does not change the others, and another ``--seed`` gives other
draws *and* other nuisance parameters (phases, small level/sd/amplitude variations),
so the set cannot be overfitted by tuning to one draw.
"""

from __future__ import annotations

import argparse
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, as in the public streams
DAYS = 45
CHANGE_DAY = 22
HOURS = DAYS * 24
CHANGE_PULL = CHANGE_DAY * 24


@dataclass(frozen=True)
class Spec:
    """One stream: the stationary base process and the change applied from day 22."""

    name: str
    kind: str
    batch: int
    base: str = "iid"            # iid | seasonal | weekly | weekend | ar1 | pull_ar1
    noise: str = "normal"        # normal | t3
    change: str | None = None    # see CHANGES
    size: float = 0.0            # change size, in row sd (meaning depends on the change)
    savings: str = "iid"         # iid | like
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# Standardised noise (mean 0, sd 1 per row)

def std_noise(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal(n)
    if kind == "t3":  # Student t, 3 df: variance 3, infinite kurtosis
        return rng.standard_t(3, n) / np.sqrt(3.0)
    if kind == "t5":
        return rng.standard_t(5, n) / np.sqrt(5.0 / 3.0)
    raise ValueError(kind)


def bimodal(rng: np.random.Generator, n: int, d: float) -> np.ndarray:
    """Equal mixture of N(-d, s) and N(+d, s) with d^2 + s^2 = 1: mean 0, sd 1."""
    s = np.sqrt(1.0 - d * d)
    return np.where(rng.random(n) < 0.5, -d, d) + s * rng.standard_normal(n)


def skewed(rng: np.random.Generator, n: int, skew: float) -> np.ndarray:
    """Standardised gamma with the given skewness: mean 0, sd 1."""
    k = 4.0 / skew ** 2
    return (rng.gamma(k, 1.0, n) - k) / np.sqrt(k)


# ------------------------------------------------------------------------------------------------
# Stationary base: per-pull level (deterministic cycle + pull-level AR) and per-row noise

def pull_level(rng: np.random.Generator, spec: Spec, hours: np.ndarray, sd: float) -> np.ndarray:
    """Level of every pull, in value units around 0 (before the row noise)."""
    n = hours.size
    lvl = np.zeros(n)
    amp_day = sd * rng.uniform(1.2, 1.8)          # public seasonal: 60 on an sd of 40
    ph_day = rng.uniform(0, 2 * np.pi)
    if spec.base in ("seasonal", "weekly", "weekend"):
        lvl += amp_day * np.sin(2 * np.pi * hours / 24 + ph_day)
        if rng.random() < 0.5:                    # sometimes a second daily harmonic
            lvl += 0.3 * amp_day * np.sin(4 * np.pi * hours / 24 + rng.uniform(0, 2 * np.pi))
    if spec.base == "weekly":                     # smooth weekly cycle on top of the daily one
        lvl += sd * rng.uniform(0.6, 1.0) * np.sin(2 * np.pi * hours / 168 + rng.uniform(0, 2 * np.pi))
    if spec.base == "weekend":                    # business-like week: Saturday/Sunday lower, smoothed
        dow = (hours / 24.0) % 7                  # 0 = Monday 00:00
        weekend = 1 / (1 + np.exp(-(dow - 5.0) * 4)) * 1 / (1 + np.exp((dow - 6.95) * 4))
        lvl -= sd * rng.uniform(0.8, 1.2) * weekend
    if spec.base == "ar1":                        # whole value is AR(1), phi 0.8, marginal sd = sd
        phi = spec.extra.get("phi", 0.8)
        e = rng.standard_normal(n + 200) * sd * np.sqrt(1 - phi ** 2)
        x = np.zeros(n + 200)
        for i in range(1, n + 200):
            x[i] = phi * x[i - 1] + e[i]
        lvl += x[200:]
    if spec.base == "pull_ar1":                   # a shared, persistent pull effect + row noise
        phi, share = 0.8, spec.extra.get("share", 0.35)
        e = rng.standard_normal(n + 200) * sd * np.sqrt(share) * np.sqrt(1 - phi ** 2)
        x = np.zeros(n + 200)
        for i in range(1, n + 200):
            x[i] = phi * x[i - 1] + e[i]
        lvl += x[200:]
    return lvl


def row_sd_factor(spec: Spec) -> float:
    """Row-noise sd as a share of the total sd (the AR/pull component takes the rest)."""
    if spec.base == "ar1":
        return 0.0
    if spec.base == "pull_ar1":
        return float(np.sqrt(1 - spec.extra.get("share", 0.35)))
    return 1.0


# ------------------------------------------------------------------------------------------------
# Changes: functions of (rng, pre-change standardised rows, hours since the change) -> new rows

def apply_change(rng: np.random.Generator, spec: Spec, z: np.ndarray, lvl_rows: np.ndarray,
                 since_h: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """(standardised row noise, level) after the change; rows with since_h < 0 are left alone."""
    post = since_h >= 0
    z, lvl_rows = z.copy(), lvl_rows.copy()
    n = int(post.sum())
    c, size = spec.change, spec.size
    if c is None:
        return z, lvl_rows
    if c == "shift":
        lvl_rows[post] += size * sd
    elif c == "ramp":                 # linear to size sd over extra["days"], then flat
        frac = np.clip(since_h[post] / (24.0 * spec.extra["days"]), 0, 1)
        lvl_rows[post] += size * sd * frac
    elif c == "scale":                # sd multiplied by size (row part and pull-level part)
        z[post] *= size
        lvl_rows[post] *= size
    elif c == "bimodal":
        z[post] = bimodal(rng, n, size)
    elif c == "skewed":
        z[post] = skewed(rng, n, size) * rng.choice([-1.0, 1.0])
    elif c == "heavier":              # same mean and variance, Student t 4 df
        z[post] = rng.standard_t(4, n) / np.sqrt(2.0)
    elif c == "outliers":             # share extra["rate"] of rows replaced by +-(size + |N|) sd
        hit = rng.random(n) < spec.extra["rate"]
        sign = rng.choice([-1.0, 1.0], n) if spec.extra.get("two_sided") else np.ones(n)
        zz = z[post]
        zz[hit] = sign[hit] * (size + np.abs(rng.standard_normal(int(hit.sum()))))
        z[post] = zz
    else:
        raise ValueError(c)
    return z, lvl_rows


def make_field(rng: np.random.Generator, spec: Spec, mean: float, sd: float, with_change: bool
               ) -> np.ndarray:
    hours = np.arange(HOURS, dtype=float)
    lvl = pull_level(rng, spec, hours, sd)
    b = spec.batch
    lvl_rows = np.repeat(lvl, b)
    z = std_noise(rng, spec.noise, HOURS * b)
    since = np.repeat(hours - CHANGE_PULL, b)
    if with_change:
        z, lvl_rows = apply_change(rng, spec, z, lvl_rows, since, sd)
    return mean + lvl_rows + sd * row_sd_factor(spec) * z


def generate(spec: Spec, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, zlib.crc32(spec.name.encode())])
    mean = 500.0 * rng.uniform(0.9, 1.1)
    sd = 40.0 * rng.uniform(0.85, 1.15)
    archived = make_field(rng, spec, mean, sd, with_change=True)
    if spec.savings == "like":
        savings = make_field(rng, Spec(spec.name, spec.kind, spec.batch, spec.base, spec.noise, None,
                                       0.0, extra=spec.extra), 120.0, 15.0, with_change=False)
    else:
        savings = 120.0 + 15.0 * rng.standard_normal(HOURS * spec.batch)
    times = [(START + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(HOURS)]
    return times, archived, savings


# ------------------------------------------------------------------------------------------------

SPECS: tuple[Spec, ...] = (
    # stationary, same kinds as the public set, other seeds and batch sizes
    Spec("h00_iid_b1", "iid", 1),
    Spec("h01_seasonal_b1", "seasonal", 1, base="seasonal"),
    Spec("h02_ar1_b1", "ar1", 1, base="ar1"),
    Spec("h03_iid_b5", "iid", 5),
    Spec("h04_iid_b50", "iid", 50),
    Spec("h05_seasonal_b20", "seasonal", 20, base="seasonal"),
    # stationary, new kinds
    Spec("h06_weekly_b1", "weekly", 1, base="weekly", savings="like"),
    Spec("h07_weekly_b20", "weekly", 20, base="weekly", savings="like"),
    Spec("h08_heavy_t3_b1", "heavy_t3", 1, noise="t3", savings="like"),
    Spec("h09_heavy_t3_b20", "heavy_t3", 20, noise="t3", savings="like"),
    Spec("h10_pull_ar1_b20", "pull_ar1", 20, base="pull_ar1", savings="like"),
    # changes, same kinds
    Spec("h11_shift_1sd_b1", "shift_1sd", 1, change="shift", size=1.0),
    Spec("h12_gradual_b1", "gradual", 1, change="ramp", size=1.5, extra={"days": 5}),
    Spec("h13_variance_x2_b20", "variance_x2", 20, change="scale", size=2.0),
    Spec("h14_outlier_burst_b20", "outlier_burst", 20, change="outliers", size=6.0,
         extra={"rate": 0.05}),
    # changes, new kinds
    Spec("h15_shift_0.5sd_b20", "shift_0.5sd", 20, change="shift", size=0.5),
    Spec("h16_variance_x0.5_b5", "variance_x0.5", 5, change="scale", size=0.5),
    Spec("h17_slow_ramp_b1", "slow_ramp", 1, change="ramp", size=1.5, extra={"days": 10}),
    Spec("h18_outlier_burst_b5", "outlier_burst", 5, change="outliers", size=5.0,
         extra={"rate": 0.02, "two_sided": True}),
    Spec("h19_heavy_t3_shift_1sd_b5", "heavy_t3_shift_1sd", 5, noise="t3", change="shift", size=1.0,
         savings="like"),
    Spec("h20_bimodal_b20", "shape_bimodal", 20, change="bimodal", size=0.8),
    Spec("h21_skewed_b5", "shape_skewed", 5, change="skewed", size=1.2),
    Spec("h22_heavier_tails_b50", "shape_heavier_tails", 50, change="heavier"),
    Spec("h23_seasonal_shift_1sd_b1", "seasonal_shift_1sd", 1, base="seasonal", change="shift", size=1.0),
    Spec("h24_ar1_shift_1sd_b1", "ar1_shift_1sd", 1, base="ar1", change="shift", size=1.0),
    Spec("h25_weekly_shift_0.5sd_b20", "weekly_shift_0.5sd", 20, base="weekly", change="shift", size=0.5),
    Spec("h26_variance_x2_b1", "variance_x2", 1, change="scale", size=2.0),
)

# Harder, optional stresses (``--extra``): a weekday/weekend step (many weekly harmonics)
EXTRA: tuple[Spec, ...] = (
    Spec("x00_weekend_b1", "weekend", 1, base="weekend", savings="like"),
    Spec("x01_weekend_b20", "weekend", 20, base="weekend", savings="like"),
)


def write_stream(out: Path, spec: Spec, seed: int) -> dict:
    times, archived, savings = generate(spec, seed)
    b = spec.batch
    lines = ["predicted_at,archived_gb_predicted,savings_gb_predicted"]
    for i, t in enumerate(times):
        for j in range(i * b, (i + 1) * b):
            lines.append(f"{t},{max(archived[j], 0.0):.4f},{max(savings[j], 0.0):.4f}")
    (out / f"{spec.name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    change_at = (START + timedelta(days=CHANGE_DAY)).strftime("%Y-%m-%dT%H:%M:%SZ") if spec.change else None
    return {"kind": spec.kind, "days": DAYS, "batch": b, "change_at": change_at}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output folder (e.g. bench/out/heldout)")
    ap.add_argument("--seed", type=int, default=1, help="master seed")
    ap.add_argument("--only", default="", help="comma-separated name prefixes to write")
    ap.add_argument("--extra", action="store_true", help="also write the optional stress streams")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    specs = SPECS + (EXTRA if a.extra else ())
    if a.only:
        specs = tuple(s for s in specs if any(s.name.startswith(p) for p in a.only.split(",")))
    truth = {}
    for spec in specs:
        truth[f"{spec.name}.csv"] = write_stream(a.out, spec, a.seed)
    (a.out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(truth)} streams (seed {a.seed}) to {a.out}")


if __name__ == "__main__":
    main()
