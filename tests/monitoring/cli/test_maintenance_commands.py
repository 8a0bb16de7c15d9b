"""backup, restore, rekey and check as an operator runs them (OPERATIONAL_RUNBOOK.md 6-9).

Every command is a real ``python -m monitoring`` process on a real encrypted store. A
store is seeded in-process (users, a settings change, a simulated pull, an imported CSV),
and "the same store" means the same row count in every table, the same users and the
same effective settings. No key or password may appear in any command's output.
"""

from __future__ import annotations

import secrets
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as sqlcipher

from monitoring.actors import Actor
from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.importer import import_csv
from monitoring.lifecycle import build_pipeline
from monitoring.secret import Secret
from monitoring.store.keys import KEY_FILE_NAME, key_pragma
from monitoring.store.maintenance import _key_value
from tests.conftest import ADMIN_PASSWORD, COOKIE_KEY
from tests.support import secret_scan

ROOT = Path(__file__).resolve().parents[3]
ADMIN = Actor("admin", "admin")
ANN_PASSWORD = "ann-password-for-maintenance-tests"
BOB_PASSWORD = "bob-password-for-maintenance-tests"
WRONG_KEY_MESSAGE = "error: the database key does not match the database at "
secret_scan.register(ANN_PASSWORD, BOB_PASSWORD)


def new_key() -> str:
    key = secrets.token_hex(32)
    secret_scan.register(key)
    return key


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI; no output may hold a secret of this test session or a traceback."""
    done = subprocess.run([sys.executable, "-m", "monitoring", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)
    text = done.stdout + done.stderr
    leaked = [s[:4] + "..." for s in secret_scan.SECRETS if s in text]
    assert not leaked, f"`{' '.join(args)}` printed a secret: {leaked}"
    assert "Traceback" not in text, text[-2000:]
    return done


def dev_env(data: Path, key: str | None) -> dict[str, str]:
    env = {"MONITOR_DATA_DIR": str(data), "MONITOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "AUTH_COOKIE_KEY": COOKIE_KEY}
    if key is not None:
        env["MONITOR_DB_KEY"] = key
    return env


def seed(env: dict[str, str], tmp_path: Path) -> None:
    """A store with something in most tables: users, an audited setting, a pull, imported rows."""
    history = tmp_path / "history.csv"
    history.write_text("predicted_at,archived_gb_predicted,savings_gb_predicted\n"
                       + "".join(f"2026-01-05T{h:02d}:00:00Z,{500 + h},{120 + h}\n" for h in range(24)))
    monitor = open_monitor(load_config(env))
    try:
        monitor.users.add(ADMIN, "ann", "analyst", ANN_PASSWORD)
        monitor.settings.update(ADMIN, {"retention_days": 200})
        build_pipeline(monitor).run_cycle(monitor.clock(), "manual")
        import_csv(monitor, history)
    finally:
        monitor.close()


def snapshot(env: dict[str, str]) -> dict[str, Any]:
    """What an operator would compare after a restore: every table's rows, users, settings."""
    monitor = open_monitor(load_config(env), bootstrap_admin=False)
    try:
        with monitor.store.read() as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name")]
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        users = sorted((u.username, u.role, u.disabled) for u in monitor.users.list())
        return {"counts": counts, "users": users, "settings": monitor.settings.effective()}
    finally:
        monitor.close()


def copy_like_backup(env: dict[str, str], target: Path) -> Path:
    """An encrypted copy in the format ``backup`` writes (sqlcipher_export under the store's key).

    Made without the CLI, so restore and rekey are tested on a backup file independently
    of ``backup`` (which has its own test).
    """
    config = load_config(env)
    key = config.db_key or Secret((config.data_dir / KEY_FILE_NAME).read_text().strip())
    conn = sqlcipher.connect(str(config.db_path), isolation_level=None)
    try:
        conn.execute(key_pragma(key))
        conn.execute("ATTACH DATABASE ? AS copy KEY ?", (str(target), _key_value(key)))
        conn.execute("SELECT sqlcipher_export('copy')")
        conn.execute("DETACH DATABASE copy")
    finally:
        conn.close()
    return target


def add_bob_and_disable_ann(env: dict[str, str]) -> None:
    monitor = open_monitor(load_config(env))
    try:
        monitor.users.add(ADMIN, "bob", "admin", BOB_PASSWORD)
        monitor.users.set_disabled(ADMIN, "ann", True)
    finally:
        monitor.close()


def test_backup_of_an_open_store_restores_into_a_fresh_data_dir(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "data", new_key())
    seed(env, tmp_path)
    expected = snapshot(env)
    target = tmp_path / "backups" / "monitor-1.db"
    live = open_monitor(load_config(env))  # the app keeps the store open while it is backed up
    try:
        with live.store.read() as conn:
            conn.execute("SELECT count(*) FROM users").fetchone()
        done = cli("backup", str(target), env=env)
        assert done.returncode == 0, done.stderr[-1000:]
        assert done.stdout.strip() == f"backup written to {target} (encrypted with the current key)"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        again = cli("backup", str(target), env=env)
        assert again.returncode == 2
        assert f"{target} already exists; choose a new file name for the backup" in again.stderr
    finally:
        live.close()
    fresh = {**env, "MONITOR_DATA_DIR": str(tmp_path / "fresh")}
    (tmp_path / "fresh").mkdir()
    restored = cli("restore", str(target), env=fresh)
    assert restored.returncode == 0, restored.stderr[-1000:]
    assert cli("check", env=fresh).stdout.strip() == "ok"
    assert snapshot(fresh) == expected


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "data", new_key())
    seed(env, tmp_path)
    target = tmp_path / "taken.db"
    target.write_bytes(b"an earlier backup")
    done = cli("backup", str(target), env=env)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(f"{target} already exists; choose a new file name for the backup")
    assert target.read_bytes() == b"an earlier backup"


def test_restore_brings_back_the_backup_in_a_fresh_dir_and_over_a_newer_store(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "data", new_key())
    seed(env, tmp_path)
    expected = snapshot(env)
    backup = copy_like_backup(env, tmp_path / "monitor-backup.db")

    fresh = {**env, "MONITOR_DATA_DIR": str(tmp_path / "fresh")}
    (tmp_path / "fresh").mkdir()  # the runbook's `mkdir -p "$MONITOR_DATA_DIR"`
    done = cli("restore", str(backup), env=fresh)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.strip() == f"restored {tmp_path / 'fresh' / 'monitor.db'} from {backup}"
    checked = cli("check", env=fresh)
    assert checked.returncode == 0 and checked.stdout.strip() == "ok"
    assert snapshot(fresh) == expected

    add_bob_and_disable_ann(env)  # the live store moves on after the backup
    assert snapshot(env) != expected
    done = cli("restore", str(backup), env=env)
    assert done.returncode == 0, done.stderr[-1000:]
    assert snapshot(env) == expected
    assert stat.S_IMODE((tmp_path / "data" / "monitor.db").stat().st_mode) == 0o600
    assert not list((tmp_path / "data").glob("*.restoring*"))


def test_rekey_with_the_development_key_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = dev_env(data, None)  # no MONITOR_DB_KEY: the first open writes data/db.key
    seed(env, tmp_path)
    key_file = data / KEY_FILE_NAME
    old_key = key_file.read_text().strip()
    secret_scan.register(old_key)
    expected = snapshot(env)

    done = cli("rekey", env=env)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.strip() == f"re-encrypted; the new key is in {key_file}"
    new = key_file.read_text().strip()
    secret_scan.register(new)
    assert len(new) == 64 and new != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    refused = cli("check", env={**env, "MONITOR_DB_KEY": old_key})
    assert refused.returncode == 2
    assert refused.stderr.startswith(WRONG_KEY_MESSAGE) and "the file was not modified" in refused.stderr
    assert "hmac" not in refused.stderr
    assert snapshot(env) == expected  # the key file's new key opens it, nothing lost


def test_rekey_in_production_and_restore_of_an_old_backup_with_backup_key_stdin(tmp_path: Path) -> None:
    old_key = new_key()
    new_passphrase = "rotated passphrase " + secrets.token_urlsafe(16)  # a passphrase works too
    secret_scan.register(new_passphrase)
    prod = {**dev_env(tmp_path / "data", old_key), "MONITOR_ENV": "production"}
    seed(prod, tmp_path)
    expected = snapshot(prod)
    old_backup = copy_like_backup(prod, tmp_path / "before-rekey.db")

    refused = cli("rekey", env=prod)
    assert refused.returncode == 2
    assert "in production pass --new-key-stdin and store the same key in MONITOR_DB_KEY" in refused.stderr
    done = cli("rekey", "--new-key-stdin", env=prod, stdin=new_passphrase + "\n")
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.strip() == "re-encrypted; set MONITOR_DB_KEY to the new key before the next start"

    stale = cli("check", env=prod)  # MONITOR_DB_KEY still holds the old key
    assert stale.returncode == 2 and stale.stderr.startswith(WRONG_KEY_MESSAGE)
    rotated = {**prod, "MONITOR_DB_KEY": new_passphrase}
    assert snapshot(rotated) == expected

    add_bob_and_disable_ann(rotated)
    wrong = cli("restore", str(old_backup), env=rotated)
    assert wrong.returncode == 2
    assert (f"the database key does not match the backup {old_backup}: use the key that was active "
            "when the backup was made") in wrong.stderr
    assert snapshot(rotated)["users"] != expected["users"]  # a refused restore changes nothing
    done = cli("restore", str(old_backup), "--backup-key-stdin", env=rotated, stdin=old_key + "\n")
    assert done.returncode == 0, done.stderr[-1000:]
    assert snapshot(rotated) == expected  # the old backup, now under the new key


def test_restore_into_a_data_dir_that_does_not_exist_yet(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "data", new_key())
    seed(env, tmp_path)
    backup = copy_like_backup(env, tmp_path / "monitor-backup.db")
    fresh = {**env, "MONITOR_DATA_DIR": str(tmp_path / "new-share" / "data")}
    done = cli("restore", str(backup), env=fresh)
    assert done.returncode == 0, done.stderr[-1000:]


def test_a_wrong_backup_key_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "data", new_key())
    seed(env, tmp_path)
    backup = copy_like_backup(env, tmp_path / "monitor-backup.db")
    done = cli("restore", str(backup), env={**env, "MONITOR_DB_KEY": new_key()})
    assert done.returncode == 2
    assert "hmac" not in done.stderr
    assert [line for line in done.stderr.splitlines() if not line.startswith("{")] == [
        f"error: the database key does not match the backup {backup}: use the key that was active when "
        "the backup was made"]


def test_rekey_never_leaves_a_store_that_no_known_key_opens(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "data", new_key())
    seed(env, tmp_path)
    cli("rekey", env=env)
    key_file = tmp_path / "data" / KEY_FILE_NAME
    candidates = [env["MONITOR_DB_KEY"]] + ([key_file.read_text().strip()] if key_file.exists() else [])
    for key in candidates:
        secret_scan.register(key)
    assert any(cli("check", env={**env, "MONITOR_DB_KEY": key}).stdout.strip() == "ok"
               for key in candidates), "no key the operator has opens the store after rekey"

