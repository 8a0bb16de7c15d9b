"""``baseline`` as an operator runs it: a real process on a real encrypted store."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from monitoring.baseline import ACTION
from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.store import Audit, DriftStore
from tests.support.hourly import store_hourly

ROOT = Path(__file__).resolve().parents[3]
FIELD = "archived_gb_predicted"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitoring", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _seed(env: dict[str, str]) -> None:
    monitor = open_monitor(load_config(env))
    try:
        values = 500.0 + 10.0 * np.random.default_rng(4).standard_normal(24 * 9)
        store_hourly(monitor, FIELD, datetime(2026, 1, 5, tzinfo=UTC), values)
    finally:
        monitor.close()


def test_baseline_list_and_clear_refusals(env: dict[str, str]) -> None:
    _seed(env)
    empty = cli("baseline", "--list", FIELD, env=env)
    assert empty.returncode == 0 and empty.stdout == f"{FIELD} has no drift reference yet\n"

    small = cli("baseline", FIELD, "--start", "2026-01-05T00:00:00Z", "--end", "2026-01-06T00:00:00Z",
                env=env)
    assert small.returncode == 2 and "Traceback" not in small.stderr
    assert small.stderr == (f"error: only 24 rows of {FIELD} over 1.0 days between 2026-01-05T00:00:00Z and "
                            "2026-01-06T00:00:00Z; the reference needs at least 168 rows over 7 days: "
                            "widen the range\n")
    naive = cli("baseline", FIELD, "--start", "2026-01-05T00:00:00", "--end", "2026-01-13T00:00:00Z", env=env)
    assert naive.returncode == 2 and "has no timezone; add Z or +00:00" in naive.stderr
    missing = cli("baseline", FIELD, "--start", "2026-01-05T00:00:00Z", env=env)
    assert missing.returncode == 2 and "give the range with --start and --end" in missing.stderr

    done = cli("baseline", FIELD, "--start", "2026-01-05T00:00:00Z", "--end", "2026-01-13T00:00:00+00:00",
               "--note", "model v7 went live", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"re-baselined {FIELD}: v1 active  2026-01-05T00:00:00Z .. "
                                  "2026-01-12T23:00:00Z 192 rows (mock), by cli at ")
    assert done.stdout.rstrip().endswith(
        "model v7 went live; detection continues after the last pull checked")

    listed = cli("baseline", "--list", FIELD, env=env)
    assert listed.returncode == 0 and listed.stdout.startswith("v1 active ")

    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    try:
        with monitor.store.read() as conn:
            (entry,) = Audit(conn).recent(action_prefix=ACTION)
            (record,) = DriftStore(conn).references(FIELD)
    finally:
        monitor.close()
    assert (entry.actor, entry.target, entry.old_value) == ("cli", FIELD, None)
    assert json.loads(entry.new_value)["version"] == record.version == 1
    assert (record.created_by, record.note, record.n_rows) == ("cli", "model v7 went live", 192)
