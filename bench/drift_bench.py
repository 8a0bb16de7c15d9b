"""Drift benchmark: one full check, the same statistics with bare scipy, and a 60-day replay.

Prints figures with their goals; it is not a test. Run: .venv/bin/python bench/drift_bench.py

(a) One full check of 2 fields, each with a 100k-row reference and a 100k-row current
    window (two weeks of hourly pulls of ~300 rows): ``check_window`` on a model fitted
    once (every registered method, residualisation and CUSUMs included). Fitting, done
    once per reference, is reported on its own line.
(b) The same statistics with bare library calls on the raw rows of the same data:
    scipy.stats.ks_2samp, wasserstein_distance / reference sd, a numpy PSI and
    scipy.spatial.distance.jensenshannon on reference-decile bins, Mann-Kendall as
    scipy.stats.kendalltau of the last 72 pull means against time, and
    scipy.stats.theilslopes on them; the ratio ours / bare.
(c) ``monitoring.replay`` (the scheduler's code path, throwaway encrypted store) over a
    CSV of 60 days of hourly pulls of 50 rows with 2 fields, CSV parsing included.
Timings are medians of repeated runs (a, b) after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitoring.drift import REGISTRY, DriftConfig, check_window, fit_reference  # noqa: E402
from monitoring.drift.reference import ReferenceModel  # noqa: E402

T0 = 1_767_571_200.0  # 2026-01-05T00:00Z
HOUR = 3600.0
FIELDS = ("archived_gb_predicted", "savings_gb_predicted")
LEVELS = {"archived_gb_predicted": (500.0, 40.0), "savings_gb_predicted": (120.0, 15.0)}
CHECK_GOAL_S, RATIO_GOAL, REPLAY_GOAL_S = 0.5, 3.0, 60.0
TREND_PULLS = 72


def _stream(field: str, pulls: int, rows: int, start: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """Hourly pulls with a persistent pull level (AR(1)) and row noise, like real predictions."""
    level, sd = LEVELS[field]
    ar = np.zeros(pulls)
    e = rng.standard_normal(pulls)
    for i in range(1, pulls):
        ar[i] = 0.6 * ar[i - 1] + e[i]
    t = np.repeat(start + HOUR * np.arange(pulls), rows)
    x = np.repeat(level + 0.1 * sd * ar, rows) + sd * rng.standard_normal(t.size)
    return t, x


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def bare_statistics(ref_t: np.ndarray, ref: np.ndarray, cur_t: np.ndarray, cur: np.ndarray) -> dict:
    """The registry's statistics computed the textbook way on raw values."""
    out = {"ks": stats.ks_2samp(ref, cur).statistic,
           "wasserstein": stats.wasserstein_distance(ref, cur) / np.std(ref)}
    edges = np.quantile(ref, np.arange(1, 10) / 10)
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10) / ref.size
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10) / cur.size
    pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    out["psi"] = float(np.sum((qf - pf) * np.log(qf / pf)))
    out["jensen_shannon"] = float(jensenshannon(p, q))
    times, starts = np.unique(cur_t, return_index=True)
    means = np.add.reduceat(cur, starts) / np.diff(np.r_[starts, cur.size])
    times, means = times[-TREND_PULLS:], means[-TREND_PULLS:]
    out["mann_kendall_p"] = stats.kendalltau(times, means).pvalue
    out["theil_sen"] = stats.theilslopes(means, (times - times[0]) / 86_400.0).slope
    return out


def check_figures(rows: int, repeats: int) -> tuple[bool, bool]:
    pulls = 14 * 24
    per_pull = -(-rows // pulls)
    rng = np.random.default_rng(20260105)
    data = {}
    for field in FIELDS:
        ref_t, ref = _stream(field, pulls, per_pull, T0, rng)
        cur_t, cur = _stream(field, pulls, per_pull, T0 + pulls * HOUR, rng)
        data[field] = (ref_t, ref, cur_t, cur)
    config = DriftConfig(pull_interval_minutes=60)
    models: dict[str, ReferenceModel] = {}
    fit_s = []
    for field in FIELDS:
        ref_t, ref, _, _ = data[field]
        started = time.perf_counter()
        models[field] = fit_reference(ref_t, ref, config, np.random.default_rng(1), field=field)
        fit_s.append(time.perf_counter() - started)

    def ours() -> None:
        for field in FIELDS:
            _, _, cur_t, cur = data[field]
            check_window(models[field], cur_t, cur)

    def bare() -> None:
        for field in FIELDS:
            bare_statistics(*data[field])

    ours_s = _median_s(ours, repeats)
    bare_s = _median_s(bare, repeats)
    ratio = ours_s / bare_s
    n_ref, n_cur = data[FIELDS[0]][1].size, data[FIELDS[0]][3].size
    print(f"(a) reference fit (once per reference, {config.bootstrap_replicates}-replicate bootstrap): "
          f"{statistics.mean(fit_s):6.2f} s "
          f"per field ({n_ref:,} rows, {pulls} pulls)")
    print(f"(a) one full check, 2 fields x ({n_ref:,} reference + {n_cur:,} current rows), all "
          f"{len(REGISTRY)} methods: {ours_s:6.3f} s "
          f"(goal <= {CHECK_GOAL_S} s) {_verdict(ours_s <= CHECK_GOAL_S)}")
    print(f"(b) bare scipy/numpy on the same rows (ks_2samp, wasserstein_distance/sd, PSI, jensenshannon, "
          f"kendalltau + theilslopes on {TREND_PULLS} pull means): {bare_s:6.3f} s")
    print(f"(b) ratio ours / bare: {ratio:5.2f}x (goal <= {RATIO_GOAL:g}x) {_verdict(ratio <= RATIO_GOAL)}")
    check = check_window(models[FIELDS[0]], data[FIELDS[0]][2], data[FIELDS[0]][3])
    bare_ks = bare_statistics(*data[FIELDS[0]])["ks"]
    print(f"    sanity: KS D ours {check.method('ks').statistic:.4f} vs ks_2samp {bare_ks:.4f} "
          f"(ours compares residuals after the fitted profile/AR filter); drifted={check.drifted}")
    return ours_s <= CHECK_GOAL_S, ratio <= RATIO_GOAL


def replay_figures(days: int, rows: int) -> bool:
    from monitoring.replay import read_pulls, replay

    rng = np.random.default_rng(7)
    pulls = days * 24
    columns = {f: _stream(f, pulls, rows, T0, rng) for f in FIELDS}
    times = columns[FIELDS[0]][0]
    stamps = np.datetime_as_string((times * 1e3).astype("datetime64[ms]"), unit="s")
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        path = Path(tmp) / "history.csv"
        with open(path, "w", encoding="utf-8") as out:
            out.write("predicted_at," + ",".join(FIELDS) + "\n")
            values = np.column_stack([np.maximum(columns[f][1], 0.0) for f in FIELDS])
            out.writelines(f"{s}Z,{a:.4f},{b:.4f}\n" for s, (a, b) in zip(stamps, values, strict=True))
        started = time.perf_counter()
        history, fields = read_pulls(path)
        result = replay(history, fields, workdir=Path(tmp))
        total = time.perf_counter() - started
    n_rows = pulls * rows
    print(f"(c) replay of {days} days of hourly pulls x {rows} rows x {len(FIELDS)} fields "
          f"({result.pulls} pulls, {result.rows_stored:,} rows stored, "
          f"{len(result.opened)} alert episode(s)): {total:6.1f} s, {n_rows / total:,.0f} rows/s "
          f"(goal < {REPLAY_GOAL_S:g} s) {_verdict(total < REPLAY_GOAL_S)}")
    return total < REPLAY_GOAL_S


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="reference and current rows per field")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--days", type=int, default=60, help="replay length")
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()
    check_ok, ratio_ok = check_figures(args.rows, args.repeats)
    replay_ok = True if args.skip_replay else replay_figures(args.days, 50)
    goals = {"check": check_ok, "ratio": ratio_ok, "replay": replay_ok}
    misses = [name for name, ok in goals.items() if not ok]
    print(f"drift bench: {'all goals met' if not misses else 'MISS: ' + ', '.join(misses)} "
          "(figures, not a test: timings depend on what else runs on the machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
