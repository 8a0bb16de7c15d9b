"""kill -9 during an import, a cycle, a settings write and drift catch-up, at random moments.

After every kill the store must open, pass SQLCipher's integrity check, and hold only
whole pulls: each pull's rows, quarantined rows and rollups agree with its record, and
redoing the interrupted work adds exactly what was missing: no slot has two pulls, and
no pull is checked for drift twice.

The kill moments are random per run (the seed is printed, and ``KILL9_SEED`` replays one);
each test also checks that the workers committed work under the kills, so the kills hit a
process in the middle of writing rather than one that had not begun.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.importer import import_csv
from monitoring.lifecycle import build_pipeline
from monitoring.store import Audit, Settings
from monitoring.store.maintenance import integrity_check
from monitoring.store.predictions import ROW_COUNT
from tests.support import secret_scan
from tests.support.store_checks import torn_pulls

ROOT = Path(__file__).resolve().parents[2]
KILLS = 5
SEED = int(os.environ.get("KILL9_SEED", time.time_ns() % 2**32))


@pytest.fixture
def rng() -> np.random.Generator:
    print(f"kill moments from KILL9_SEED={SEED}")  # shown with a failure, to replay it
    return np.random.default_rng(SEED)


def _start(mode: str, workdir: Path, env: dict[str, str]) -> subprocess.Popen:
    with secret_scan.subprocess_stderr(f"kill9-{mode}") as stderr:  # kept, and scanned for secrets
        proc = subprocess.Popen([sys.executable, "-m", "tests.support.crash_worker", mode, str(workdir)],
                                cwd=ROOT, env={**env, "LOG_LEVEL": "ERROR"}, stdout=subprocess.PIPE,
                                stderr=stderr, text=True)

    def why() -> str:
        return Path(stderr.name).read_text(errors="replace")[-2000:]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # never block on a worker that died before "ready"
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            line = proc.stdout.readline().strip()
            assert line == "ready", f"the {mode} worker said {line!r}; its stderr:\n{why()}"
            return proc
        assert proc.poll() is None, f"the {mode} worker exited with {proc.returncode}:\n{why()}"
    proc.kill()
    raise AssertionError(f"the {mode} worker did not start within 60 s:\n{why()}")


def _kill_after(proc: subprocess.Popen, seconds: float) -> None:
    time.sleep(seconds)  # the fault injection's random moment, not a wait for the scheduler
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _check_whole(env: dict[str, str]) -> dict[str, int]:
    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    try:
        assert integrity_check(monitor.store) == "ok"
        with monitor.store.read() as conn:
            torn = torn_pulls(conn)
            assert torn == [], f"pulls whose rows do not match their record: {torn}"
            torn = conn.execute(
                "SELECT p.id FROM pulls p LEFT JOIN rejected_rows r ON r.pull_id = p.id "
                "GROUP BY p.id HAVING count(r.id) != p.rows_rejected").fetchall()
            assert torn == []
            counted = dict(conn.execute("SELECT source, count(*) FROM predictions GROUP BY source"))
            rolled = dict(conn.execute("SELECT source, sum(n) FROM field_rollup WHERE field = ? "
                                       "GROUP BY source", (ROW_COUNT,)))
            assert counted == rolled
            twice = conn.execute(
                "SELECT slot_at, count(*) FROM pulls WHERE kind = 'scheduled' AND outcome != 'failed' "
                "GROUP BY slot_at HAVING count(*) > 1").fetchall()
            assert twice == [], f"slots pulled twice after a restart: {twice}"
            counted["pulls"] = conn.execute("SELECT count(*) FROM pulls").fetchone()[0]
            counted["audit"] = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
            for key, value in Settings(conn).all().items():
                entries = [e for e in Audit(conn).recent(100_000, "settings.") if e.target == key]
                latest = max(entries, key=lambda e: e.id)  # each worker's clock restarts: use ids
                assert latest.new_value == str(value)
        return counted
    finally:
        monitor.close()


ROWS_PER_HOUR = 2500  # ~1.2 s of import per file, so the kills land inside the files


@pytest.fixture
def days(tmp_path: Path) -> list[Path]:
    gen = np.random.default_rng(5)
    paths = []
    for day in range(4):
        hours = np.repeat(np.arange(24), ROWS_PER_HOUR)
        archived, savings = gen.normal(500, 40, hours.size), np.abs(gen.normal(120, 15, hours.size))
        lines = ["predicted_at,archived_gb_predicted,savings_gb_predicted"]
        lines += [f"2026-01-{day + 5:02d}T{h:02d}:00:00Z,{a:.3f},{b:.3f}"
                  for h, a, b in zip(hours.tolist(), archived.tolist(), savings.tolist(), strict=True)]
        lines.append(f"2026-01-{day + 5:02d}T00:00:00Z,-1,5")  # one row to quarantine per file
        path = tmp_path / f"day-{day}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _kill_repeatedly(mode: str, tmp_path: Path, env: dict[str, str], rng: np.random.Generator,
                     low: float, high: float, progress: str) -> None:
    seen = []
    for _ in range(KILLS):
        _kill_after(_start(mode, tmp_path, env), float(rng.uniform(low, high)))
        seen.append(_check_whole(env).get(progress, 0))
    # the kills interrupted a process that was committing work, not one that had not begun
    assert seen[-1] > 0, f"the {mode} worker committed nothing before its kills: {seen}"


def test_kill_during_imports_loses_and_duplicates_nothing(env, tmp_path, days, rng) -> None:
    _kill_repeatedly("import", tmp_path, env, rng, 0.3, 2.5, "import")
    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    for path in days:  # the retry after the crash completes what is missing, nothing more
        import_csv(monitor, path)
    monitor.close()
    final = _check_whole(env)
    assert final["import"] == 4 * 24 * ROWS_PER_HOUR


def test_kill_during_cycles_leaves_whole_pulls(env, tmp_path, rng) -> None:
    _kill_repeatedly("cycle", tmp_path, env, rng, 0.5, 4.0, "pulls")
    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    try:  # the next cycle after the crashes runs cleanly and the detector catches up
        report = build_pipeline(monitor).run_cycle(datetime(2026, 3, 1, tzinfo=UTC), "scheduled")
        assert report.errors == [] and report.pull.outcome == "ok"
    finally:
        monitor.close()
    _check_whole(env)


def test_kill_during_settings_writes_keeps_value_and_audit_together(env, tmp_path, rng) -> None:
    _kill_repeatedly("settings", tmp_path, env, rng, 0.1, 1.5, "audit")


def _drift_runs(env: dict[str, str]) -> tuple[dict[str, int], list, dict[str, int], dict[str, int]]:
    """(ok checks per field, any (field, pull time) checked twice, references per field,
    pulls after each field's reference: what a caught-up detector has checked)."""
    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    try:
        with monitor.store.read() as conn:
            checked = dict(conn.execute("SELECT field, count(*) FROM drift_runs WHERE status = 'ok' "
                                        "GROUP BY field").fetchall())
            twice = conn.execute("SELECT field, run_at FROM drift_runs WHERE status = 'ok' "
                                 "GROUP BY field, run_at HAVING count(*) > 1").fetchall()
            references = dict(conn.execute("SELECT field, count(*) FROM drift_references "
                                           "GROUP BY field").fetchall())
            due = dict(conn.execute(
                "SELECT r.field, count(DISTINCT p.predicted_at) FROM drift_references r "
                "JOIN predictions p ON p.predicted_at > r.end_at AND p.source = 'mock' "
                "GROUP BY r.field").fetchall())
        return checked, twice, references, due
    finally:
        monitor.close()


def test_kill_during_reference_fits_and_catch_up_checks_every_pull_once(env, tmp_path, rng) -> None:
    """A zero drift budget: each worker's life is reference fits and one-pull catch-up passes."""
    budget_zero = {**env, "MONITOR_DRIFT_BUDGET_SECONDS": "0"}
    seen, behind = [], []
    for _ in range(KILLS):
        _kill_after(_start("catch-up", tmp_path, budget_zero), float(rng.uniform(1.0, 5.0)))
        _check_whole(budget_zero)
        checked, twice, references, due = _drift_runs(budget_zero)
        assert twice == [], f"pulls checked twice after a kill: {twice}"
        assert all(n == 1 for n in references.values()), references  # a fit commits once or not at all
        seen.append(sum(checked.values()) + sum(references.values()))
        behind.append(len(references) < 3 or sum(due.values()) > sum(checked.values()))
    assert seen[-1] > 0, f"the catch-up workers committed no fit and no check before their kills: {seen}"
    assert any(behind), "no kill landed while drift work was still deferred"
    monitor = open_monitor(load_config(budget_zero), bootstrap_admin=False)
    try:  # finishing the deferred work afterwards checks every pull after each reference exactly once
        pipeline = build_pipeline(monitor)
        done = pipeline.catch_up(monitor.clock())
        assert done.deferred == {} and done.error is None
    finally:
        monitor.close()
    checked, twice, _, due = _drift_runs(budget_zero)
    assert twice == [] and checked == due and len(checked) == 3
