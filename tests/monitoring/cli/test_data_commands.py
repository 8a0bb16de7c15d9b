"""run-once, import and replay as a user runs them: real processes, real store, real endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.errors import ValidationError
from monitoring.importer import import_csv
from monitoring.replay import read_pulls, replay
from monitoring.store import Predictions, Pulls, Rejected
from tests.fakes.azureml_server import FakeAzureML, Reply

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; 45 days of hourly single-row pulls


def stream(path: Path, shift_sd: float, seed: int) -> Path:
    """A replay CSV in the drift benchmark's format: archived shifts by ``shift_sd`` from day 22."""
    rng = np.random.default_rng(seed)
    hours = np.arange(45 * 24)
    archived = 500 + 40 * rng.standard_normal(hours.size) + np.where(hours >= 22 * 24, shift_sd * 40, 0.0)
    savings = 120 + 15 * rng.standard_normal(hours.size)
    lines = ["predicted_at,archived_gb_predicted,savings_gb_predicted"]
    lines += [f"{(START + timedelta(hours=int(h))).strftime('%Y-%m-%dT%H:%M:%SZ')},{a:.4f},{s:.4f}"
              for h, a, s in zip(hours, archived, savings, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitoring", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_run_once_never_logs_the_endpoint_key(env, fake_azureml: FakeAzureML) -> None:  # noqa: F811
    full = {**env, **fake_azureml.env(), "LOG_LEVEL": "DEBUG", "AZURE_ML_TIMEOUT_SECONDS": "1"}
    outputs = []
    fake_azureml.enqueue(Reply.json([{"archived_gb_predicted": 1.0}]))  # partial: rows quarantined
    outputs.append(cli("run-once", env=full))
    fake_azureml.enqueue(Reply.error(500), times=10)
    outputs.append(cli("run-once", env=full))
    wrong = {**full, "AZURE_ML_API_KEY": full["AZURE_ML_API_KEY"] + "-stale"}
    outputs.append(cli("run-once", env=wrong))  # 401
    for done in outputs:
        assert done.returncode == 0, done.stderr[-2000:]
        text = done.stdout + done.stderr
        assert fake_azureml.api_key not in text
        assert "Traceback" not in text
    assert "fallback" in outputs[1].stdout
    assert "401" in outputs[2].stdout or "rejected the credentials" in outputs[2].stdout


def test_run_once_in_demo_mode_and_clear_errors(env, tmp_path: Path) -> None:
    done = cli("run-once", env=env)
    assert done.returncode == 0 and "pull ok from mock" in done.stdout
    bad = cli("run-once", env={**env, "MONITOR_PULL_INTERVAL_MINUTES": "soon"})
    assert bad.returncode == 2 and bad.stderr.startswith("error: MONITOR_PULL_INTERVAL_MINUTES")
    wrong_key = cli("run-once", env={**env, "MONITOR_DB_KEY": "f" * 64})
    assert wrong_key.returncode == 2
    assert wrong_key.stderr.startswith("error: the database key does not match")
    assert "Traceback" not in wrong_key.stderr and "hmac" not in wrong_key.stderr
    prod = cli("run-once", env={"MONITOR_ENV": "production", "MONITOR_DATA_DIR": str(tmp_path / "p")})
    assert prod.returncode == 2 and "MONITOR_DB_KEY and AUTH_COOKIE_KEY" in prod.stderr


def test_import_is_atomic_idempotent_and_labelled(env, tmp_path: Path) -> None:
    good = tmp_path / "history.csv"
    good.write_text("predicted_at,archived_gb_predicted,savings_gb_predicted\n"
                    + "".join(f"2026-01-05T{h:02d}:00:00Z,{500 + h},{120 + h}\n" for h in range(24))
                    + "2026-01-06T00:00:00Z,-5,120\n")
    first = cli("import", str(good), env=env)
    assert first.returncode == 0, first.stderr
    assert "24 rows stored, 1 quarantined" in first.stdout
    again = cli("import", str(good), env=env)
    assert "0 rows stored, 0 quarantined, 25 already present" in again.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text("predicted_at,archived_gb_predicted\n2026-02-01T00:00:00Z,1\n"
                      "2026-02-01T01:00:00Z,1,2,3,4\n")
    failed = cli("import", str(broken), env=env)
    assert failed.returncode == 2 and "nothing was imported" in failed.stderr
    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    with monitor.store.read() as conn:
        assert Predictions(conn).count_by_source() == {"import": 24}
        assert Predictions(conn).span(["import"])[1] < 1769904000000  # nothing from broken.csv
        (rejection,) = Rejected(conn).recent(0, 2**62)
        assert rejection["row_ref"].endswith("line 26") and "below the minimum" in rejection["reason"]
        assert {p.kind for p in Pulls(conn).recent(0, 2**62)} == {"import"}
    monitor.close()
    missing = cli("import", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 2 and "there is no file" in missing.stderr


def test_import_reads_excel_bom_files_and_quarantines_times_it_cannot_store(monitor: Monitor,
                                                                          tmp_path: Path) -> None:
    excel = tmp_path / "excel.csv"  # Excel's "CSV UTF-8": a BOM and CRLF line ends
    excel.write_bytes(b"\xef\xbb\xbfpredicted_at,archived_gb_predicted\r\n2026-01-05T00:00:00Z,1\r\n"
                      b"0001-01-01T00:00:00+01:00,2\r\n")  # year 0 in UTC: pandas parses it, datetime cannot
    result = import_csv(monitor, excel)
    assert (result.stored, result.rejected) == (1, 1)
    with monitor.store.read() as conn:
        (rejection,) = Rejected(conn).recent(-(2**62), 2**62)
        assert Predictions(conn).span(["import"]) == (1767571200000, 1767571200000)
    assert rejection["field"] == "predicted_at" and "outside the years 1 to 9999" in rejection["reason"]


def test_import_refuses_a_header_cell_over_the_csv_field_limit_clearly(monitor: Monitor,
                                                                      tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"predicted_at," + b"a" * 200_000 + b"\n")
    with pytest.raises(ValidationError, match="the header of .* is not valid CSV"):
        import_csv(monitor, huge)


def test_replay_quarantines_a_time_outside_utc_instead_of_crashing(tmp_path: Path) -> None:
    history = tmp_path / "edge.csv"
    history.write_text("predicted_at,archived_gb_predicted\n0001-01-01T00:00:00+01:00,1\n"
                       "2026-01-05T00:00:00Z,2\n", encoding="utf-8")
    pulls, fields = read_pulls(history)
    assert list(pulls) == [START]  # the bad row rides with the first pull, to be quarantined there
    result = replay(pulls, fields, workdir=tmp_path)
    assert (result.pulls, result.rows_stored, result.rows_rejected) == (1, 1, 1)


def test_replay_writes_episodes_and_never_touches_the_live_store(env, tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    history = stream(tmp_path / "shift.csv", 2.0, seed=3)
    done = cli("replay", "--input", str(history), "--output", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "replayed 1080 pulls" in done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines and all({"opened_at", "field", "kind", "severity"} <= set(line) for line in lines)
    first = min(line["opened_at"] for line in lines if line["field"] == "archived_gb_predicted")
    assert "2026-01-27" <= first < "2026-01-29"  # the 2 sd shift starts on the 27th
    assert not any(line["field"] == "savings_gb_predicted" for line in lines)
    assert not (Path(env["MONITOR_DATA_DIR"]) / "monitor.db").exists()


def test_replay_settings_file_is_validated(env, tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"false_alarms_per_30d": -1}))
    done = cli("replay", "--input", str(stream(tmp_path / "iid.csv", 0.0, seed=4)),
               "--output", str(tmp_path / "o.jsonl"), "--settings", str(settings), env=env)
    assert done.returncode == 2 and "False-alarm budget" in done.stderr
    assert "Traceback" not in done.stderr


def test_users_cli_round_trip(env) -> None:
    added = cli("users", "add", "Ann", "--role", "analyst", "--password-stdin", env=env,
                stdin="correct-horse-1\n")
    assert added.returncode == 0 and "added ann (analyst)" in added.stdout
    short = cli("users", "add", "bob", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    assert cli("users", "disable", "ann", env=env).returncode == 0
    assert cli("users", "reset-password", "ann", "--password-stdin", env=env,
               stdin="another-pass-2\n").returncode == 0
    listing = cli("users", "list", env=env).stdout
    assert "ann" in listing and "disabled" in listing and "admin" in listing
    unknown = cli("users", "disable", "zed", env=env)
    assert unknown.returncode == 2 and "there is no user 'zed'" in unknown.stderr


def test_run_once_defers_drift_work_past_its_budget_and_catch_up_finishes_it(
        env, tmp_path: Path, fake_azureml: FakeAzureML) -> None:  # noqa: F811
    """After an import, a zero budget fits one reference; --catch-up then checks every imported pull."""
    history = tmp_path / "history.csv"
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rng = np.random.default_rng(4)
    lines = ["predicted_at,archived_gb_predicted,savings_gb_predicted"]
    lines += [f"{(now - timedelta(hours=h)).strftime('%Y-%m-%dT%H:%M:%SZ')},"
              f"{500 + 40 * rng.standard_normal():.3f},{120 + 15 * rng.standard_normal():.3f}"
              for h in range(9 * 24, 0, -1)]
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    full = {**env, **fake_azureml.env(), "MONITOR_DRIFT_BUDGET_SECONDS": "0"}
    assert cli("import", str(history), env=full).returncode == 0
    fake_azureml.enqueue(Reply.rows(5), times=2)
    first = cli("run-once", env=full)
    assert first.returncode == 0, first.stderr[-2000:]
    deferred = first.stdout.split("deferred by the cycle's time budget", 1)[1]
    assert "reference v1 frozen; checking its pulls continues next" in deferred
    assert "waiting: this pass's drift budget went to other fields" in deferred
    caught = cli("run-once", "--catch-up", env=full)
    assert caught.returncode == 0, caught.stderr[-2000:]
    assert "drift catch-up: " in caught.stdout and "deferred" not in caught.stdout
    monitor = open_monitor(load_config(full), bootstrap_admin=False)
    with monitor.store.read() as conn:
        checked = dict(conn.execute("SELECT field, COUNT(*) FROM drift_runs WHERE status = 'ok' "
                                    "GROUP BY field").fetchall())
        states = dict(conn.execute("SELECT field, through_at FROM drift_state").fetchall())
    monitor.close()
    assert set(checked) == {"archived_gb_predicted", "savings_gb_predicted"}
    assert all(n >= 2 * 24 for n in checked.values())  # two days after the 7-day references
    assert all(t >= int((now - timedelta(hours=1)).timestamp() * 1000) for t in states.values())
