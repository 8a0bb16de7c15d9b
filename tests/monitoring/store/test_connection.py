"""The store is really encrypted, refuses a wrong key clearly, and migrates idempotently."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.errors import StoreError, WrongKeyError
from monitoring.secret import Secret
from monitoring.store import Predictions, PullRecord, Pulls, Store, StoredRow
from monitoring.store.schema import MIGRATIONS


def _fill(store: Store) -> None:
    with store.transaction() as conn:
        pull_id = Pulls(conn).add(PullRecord(0, 0, 1, "manual", "azure_ml", "ok"))
        Predictions(conn).insert(pull_id, "azure_ml", [
            StoredRow(1_000, 0, {"archived_gb_predicted": 512.5, "savings_gb_predicted": 99.0})])


def test_plain_sqlite_cannot_read_the_file(store: Store) -> None:
    _fill(store)
    plain = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        plain.execute("SELECT * FROM sqlite_master").fetchall()
    plain.close()


def test_file_holds_no_plaintext_schema_or_field_names(store: Store) -> None:
    _fill(store)
    store.close()
    blob = b"".join(p.read_bytes() for p in store.path.parent.glob("monitor.db*"))
    assert len(blob) > 4096
    for needle in (b"SQLite format 3", b"CREATE TABLE", b"predictions", b"archived_gb_predicted",
                   b"savings_gb_predicted", b"azure_ml", b"password_hash"):
        assert needle not in blob, needle


def test_right_key_reads_and_wrong_key_gets_one_clear_message(tmp_path: Path, db_key: Secret) -> None:
    store = Store(tmp_path / "m.db", db_key)
    _fill(store)
    store.close()
    reopened = Store(tmp_path / "m.db", db_key)
    with reopened.read() as conn:
        assert Predictions(conn).count() == 1
    reopened.close()
    before = hashlib.sha256((tmp_path / "m.db").read_bytes()).hexdigest()
    mtime = (tmp_path / "m.db").stat().st_mtime_ns
    with pytest.raises(WrongKeyError, match="the database key does not match"):
        Store(tmp_path / "m.db", Secret("0" * 64))
    with pytest.raises(WrongKeyError, match="the database key does not match"):
        Store(tmp_path / "m.db", Secret("a passphrase, not the key"))
    assert hashlib.sha256((tmp_path / "m.db").read_bytes()).hexdigest() == before
    assert (tmp_path / "m.db").stat().st_mtime_ns == mtime


def test_wrong_key_prints_no_sqlcipher_noise_and_no_traceback(tmp_path: Path, db_key: Secret) -> None:
    Store(tmp_path / "m.db", db_key).close()
    code = ("from monitoring.store import Store; from monitoring.secret import Secret\n"
            "from monitoring.errors import MonitoringError\n"
            f"try:\n    Store({str(tmp_path / 'm.db')!r}, Secret('f' * 64))\n"
            "except MonitoringError as exc:\n    print('MSG', exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], check=True)
    assert done.stdout.startswith("MSG the database key does not match")
    assert done.stderr == ""


def test_plaintext_database_is_named_as_such(tmp_path: Path, db_key: Secret) -> None:
    plain = sqlite3.connect(tmp_path / "plain.db")
    plain.execute("CREATE TABLE t (a)")
    plain.commit()
    plain.close()
    with pytest.raises(WrongKeyError, match="plain, unencrypted SQLite"):
        Store(tmp_path / "plain.db", db_key)


def test_migrations_are_idempotent(tmp_path: Path, db_key: Secret) -> None:
    first = Store(tmp_path / "m.db", db_key)
    _fill(first)
    version = first.schema_version()
    first.close()
    assert version == max(v for v, _, _ in MIGRATIONS)
    second = Store(tmp_path / "m.db", db_key)
    with second.read() as conn:
        applied = conn.execute("SELECT count(*) FROM schema_version").fetchone()[0]
        assert Predictions(conn).count() == 1
    assert applied == len(MIGRATIONS)
    assert second.schema_version() == version
    second.close()


def test_pragmas_wal_foreign_keys_busy_timeout(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_journal_mode_delete_for_network_shares(tmp_path: Path, db_key: Secret) -> None:
    store = Store(tmp_path / "m.db", db_key, journal_mode="delete")
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    store.close()


def test_check_constraints_and_foreign_keys_hold(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction() as conn:
        Pulls(conn).add(PullRecord(0, 0, 1, "manual", "elsewhere", "ok"))
    with pytest.raises(StoreError), store.transaction() as conn:
        Predictions(conn).insert(999, "azure_ml", [StoredRow(1, 0, {"x": 1.0})])


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        pull_id = Pulls(conn).add(PullRecord(0, 0, 1, "manual", "azure_ml", "ok"))
        Predictions(conn).insert(pull_id, "azure_ml", [StoredRow(1, 0, {"x": 1.0})])
        raise RuntimeError("crash mid-write")
    with store.read() as conn:
        assert Pulls(conn).count() == 0
        assert Predictions(conn).count() == 0


def test_time_range_indexes_exist(store: Store) -> None:
    with store.read() as conn:
        plan = " ".join(str(r) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM pulls WHERE started_at >= 1 AND started_at < 2"))
        assert "pulls_started" in plan
        plan = " ".join(str(r) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM predictions WHERE predicted_at >= 1 AND predicted_at < 2"))
        assert "PRIMARY KEY" in plan or "USING" in plan
