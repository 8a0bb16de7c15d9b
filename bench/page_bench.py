"""Page benchmark: each dashboard page's server-side render time at 10k and at 1M stored rows.

Prints figures; it is not a test. Run: .venv/bin/python bench/page_bench.py [--small N] [--large N]

Two encrypted demo stores are built in a temporary folder, each holding six weeks of hourly
simulated pulls up to the current hour (3 outputs, ~10 rows per pull for 10k and ~1000 for
1M; the last 36 hours shifted so the drift page has something to show), written through the
``Pulls`` and ``Predictions`` repositories in bulk (rows, rollups and pull metrics as a
cycle writes them). Then the real ``DriftService`` freezes the references and folds every
pull, which opens alerts. Each page then runs as ``dashboard.py`` under Streamlit's AppTest,
logged in as admin (the same path as the server's script run, minus the websocket):

* median: ``at.run()`` of an open page after a warm-up, query cache warm (a user's rerun);
* cold: the same with ``ui.queries.after_write()`` before each run (a first visit, or the
  first render after a write: every cached query runs again; SQLite's page cache stays warm).

Goal per page: <= 500 ms at 1M rows (median and cold) and 1M median <= 2x the 10k median.
A second table times each ``monitoring.views`` query on its own, to find a slow one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import math
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from monitoring import context  # noqa: E402
from monitoring.config import load_config  # noqa: E402
from monitoring.context import Monitor, open_monitor  # noqa: E402
from monitoring.detection import DriftService  # noqa: E402
from monitoring.store import Metrics, Predictions, PullRecord, Pulls  # noqa: E402
from monitoring.store.predictions import RowBatch  # noqa: E402
from monitoring.timeutil import to_ms  # noqa: E402
from monitoring.views import alerts, drift, history, ops, status  # noqa: E402
from monitoring.views.common import TimeRange  # noqa: E402

PAGES = {"Alerts": "pages/alerts.py", "History": "pages/history.py", "Drift": "pages/drift.py",
         "Metrics": "pages/metrics.py", "Settings": "pages/settings.py"}
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'dashboard.py')!r}, run_name='__main__')\n"
ADMIN_PASSWORD = "page-bench-admin-password"
DAYS = 42
SHIFT_HOURS = 36  # the last hours drift, so the drift page and the alerts have content
PULLS_PER_TRANSACTION = 48
GOAL_MS = 500.0
GOAL_RATIO = 2.0


@dataclass(frozen=True)
class Built:
    monitor: Monitor
    rows: int
    insert_s: float
    detect_s: float


def _values(rng: np.random.Generator, hour: int, n: int, shifted: bool) -> dict[str, np.ndarray]:
    """One pull's outputs: a daily cycle in volumes, a steady confidence; shifted near the end."""
    daily = math.sin(2 * math.pi * (hour % 24) / 24)
    archived = rng.normal(500 + 30 * daily + (60 if shifted else 0), 40, n).clip(0)
    savings = rng.normal(120 + 8 * daily, 15, n).clip(0)
    confidence = rng.beta(8 if not shifted else 5, 2, n)
    return {"archived_gb_predicted": archived, "savings_gb_predicted": savings,
            "confidence_interval": confidence}


def build(data_dir: Path, rows: int, now: datetime, seed: int = 7) -> Built:
    """Six weeks of hourly simulated pulls ending before ``now``'s hour, then one detection run."""
    key = secrets.token_hex(32)
    env = {"MONITOR_DATA_DIR": str(data_dir), "MONITOR_DB_KEY": key, "MONITOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "AUTH_COOKIE_KEY": secrets.token_hex(24), "LOG_LEVEL": "WARNING"}
    monitor = open_monitor(load_config(env))
    rng = np.random.default_rng(seed)
    end = now.replace(minute=0, second=0, microsecond=0)
    slots = [end - timedelta(hours=h) for h in range(DAYS * 24, 0, -1)]
    sizes = np.full(len(slots), rows // len(slots))
    sizes[: rows % len(slots)] += 1
    started = time.perf_counter()
    for first in range(0, len(slots), PULLS_PER_TRANSACTION):
        with monitor.store.transaction() as conn:
            for i in range(first, min(first + PULLS_PER_TRANSACTION, len(slots))):
                slot, n = to_ms(slots[i]), int(sizes[i])
                pull_id = Pulls(conn).add(PullRecord(slot, slot, slot + 40, "backfill", "mock", "ok",
                                                     rows_received=n, attempts=1))
                batch = RowBatch(np.full(n, slot, np.int64), np.arange(n, dtype=np.int64),
                                 _values(rng, i, n, i >= len(slots) - SHIFT_HOURS), ["demo-1"] * n)
                stored = Predictions(conn).insert(pull_id, "mock", batch)
                Pulls(conn).set_counts(pull_id, stored, 0)
                Metrics(conn).add_many([(slot + 40, "pull_rows_stored", float(stored), "mock"),
                                        (slot + 40, "pull_rows_rejected", 0.0, "mock")])
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    DriftService(monitor).run(now, monitor.settings.effective())
    return Built(monitor, rows, insert_s, time.perf_counter() - started)


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _login(at: AppTest) -> AppTest:
    at.text_input(key="login_username").input("admin")
    at.text_input(key="login_password").input(ADMIN_PASSWORD)
    at.button(key="FormSubmitter:login-Log in").click()
    return at.run()


def measure_pages(monitor: Monitor, runs: int) -> dict[str, tuple[float, float]]:
    """Per page: (median of warm reruns, median of cold reruns) in ms, via AppTest."""
    context.set_current(monitor)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the auth library prints cookie decode errors
            at = _login(AppTest.from_string(ENTRY, default_timeout=300).run())
        from ui import queries  # after the first run, so its cache is made under AppTest's runtime

        queries.after_write()  # nothing cached from the other store's run
        if [t.value for t in at.title] != ["Alerts"]:
            raise SystemExit(f"login failed under AppTest: {[e.value for e in at.error]}")
        out = {}
        for title, page in PAGES.items():
            at.switch_page(str(ROOT / page)).run()  # warm-up: imports, first queries
            if at.exception or [t.value for t in at.title] != [title]:
                raise SystemExit(f"{page} did not render: {[e.value for e in at.exception]}")
            warm = [_ms(at.run) for _ in range(runs)]
            cold = []
            for _ in range(runs):
                queries.after_write()
                cold.append(_ms(at.run))
            if at.exception or [t.value for t in at.title] != [title]:  # still the same page, no error
                raise SystemExit(f"{page} changed or raised: {[e.value for e in at.exception]}")
            out[title] = (statistics.median(warm), statistics.median(cold))
        return out
    finally:
        context.set_current(None)


def view_calls(monitor: Monitor) -> dict[str, Callable[[], object]]:
    """The read models the pages call, by name, as argument-less calls (what one page visit runs)."""
    now = monitor.clock().replace(second=0, microsecond=0) + timedelta(minutes=1)
    week = TimeRange.last(now, 7)
    field = "archived_gb_predicted"
    sources = monitor.analysis_sources
    overview = drift.overview(monitor, field)
    listed = alerts.list_alerts(monitor, "open")
    calls: dict[str, Callable[[], object]] = {
        "status.health": lambda: status.health(monitor),
        "status.data_source": lambda: status.data_source(monitor),
        "alerts.counts": lambda: alerts.counts(monitor),
        "alerts.list_alerts": lambda: alerts.list_alerts(monitor, "open"),
        "alerts.detail": lambda: alerts.detail(monitor, listed[0]["id"], sources) if listed else None,
        "history.monitored_fields": lambda: history.monitored_fields(monitor),
        "history.series (7 days)": lambda: history.series(monitor, field, week, sources),
        "history.rejected": lambda: history.rejected(monitor, week),
        "history.pulls": lambda: history.pulls(monitor, week),
        "drift.overview": lambda: drift.overview(monitor, field),
        "drift.distributions": lambda: (drift.distributions(monitor, field, overview.reference,
                                                            overview.window, sources)
                                        if overview.reference and overview.window else None),
        "drift.run_history (14 days)": lambda: drift.run_history(monitor, field, TimeRange.last(now, 14)),
        "drift.references": lambda: drift.references(monitor, field),
        "ops.pull_latency": lambda: ops.pull_latency(monitor, week),
        "ops.outcomes": lambda: ops.outcomes(monitor, week),
        "ops.op_summary": lambda: ops.op_summary(monitor, week),
        "ops.store_facts": lambda: ops.store_facts(monitor),
        "ops.schedule": lambda: ops.schedule(monitor),
    }
    return calls


def measure_views(monitor: Monitor, runs: int) -> dict[str, float]:
    """Each read model the pages call, on its own (no Streamlit cache), median ms."""
    out = {}
    for name, call in view_calls(monitor).items():
        call()
        out[name] = statistics.median(_ms(call) for _ in range(runs))
    return out


def page_ok(small: tuple[float, float], large: tuple[float, float]) -> bool:
    """A page's verdict: the large store's median and cold runs within the goal, and the ratio."""
    return max(large) <= GOAL_MS and large[0] / small[0] <= GOAL_RATIO


def run(small_rows: int, large_rows: int, runs: int, now: datetime | None = None
        ) -> tuple[dict[int, dict[str, tuple[float, float]]], dict[int, dict[str, float]]]:
    """Build both stores in a temporary folder, time the pages and the read models on each."""
    # Clearing the query cache between runs happens outside a script run, which Streamlit
    # warns about (harmless here); the figures are the output.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
    now = now or datetime.now(UTC)
    results: dict[int, dict[str, tuple[float, float]]] = {}
    views: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (small_rows, large_rows):
            built = build(Path(tmp) / f"rows{rows}", rows, now)
            try:
                size_mb = built.monitor.store.size_bytes() / 2**20
                with built.monitor.store.read() as conn:
                    stored = Predictions(conn).count()
                print(f"{stored:,} rows over {DAYS} days ({size_mb:.0f} MB): inserted in "
                      f"{built.insert_s:.1f} s, references + detection over every pull in "
                      f"{built.detect_s:.1f} s", flush=True)
                results[rows] = measure_pages(built.monitor, runs)
                views[rows] = measure_views(built.monitor, runs)
            finally:
                built.monitor.close()
    return results, views


def report(small_rows: int, large_rows: int, runs: int, results: dict[int, dict[str, tuple[float, float]]],
           views: dict[int, dict[str, float]]) -> None:
    """Print the page table and the read-model table."""
    small, large = results[small_rows], results[large_rows]
    s_label, l_label = _label(small_rows), _label(large_rows)
    print(f"\nserver-side render per page (AppTest at.run(), median of {runs}, ms)")
    header = (f"{'page':10s} {s_label + ' median':>11s} {s_label + ' cold':>9s} {l_label + ' median':>10s} "
              f"{l_label + ' cold':>8s} {'ratio':>6s}  goal")
    print(header)
    print("-" * len(header))
    for page in PAGES:
        s_warm, s_cold = small[page]
        l_warm, l_cold = large[page]
        ratio = l_warm / s_warm
        ok = page_ok(small[page], large[page])
        print(f"{page:10s} {s_warm:11.0f} {s_cold:9.0f} {l_warm:10.0f} {l_cold:8.0f} {ratio:6.2f}  "
              f"{'PASS' if ok else 'MISS'}")
    print(f"goal: {l_label} median and cold <= {GOAL_MS:.0f} ms, and {l_label} median <= {GOAL_RATIO:g}x "
          f"the {s_label} median (ratio)")

    print("\nread models on their own (no Streamlit cache, warm SQLite), median ms")
    print(f"{'query':30s} {s_label:>8s} {l_label:>8s}")
    for name in views[large_rows]:
        print(f"{name:30s} {views[small_rows][name]:8.1f} {views[large_rows][name]:8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per page and mode")
    args = parser.parse_args()
    results, views = run(args.small, args.large, args.runs)
    report(args.small, args.large, args.runs, results, views)
    return 0


def _label(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows >= 1_000_000 and rows % 1_000_000 == 0 else f"{rows // 1000}k"


if __name__ == "__main__":
    raise SystemExit(main())
