"""Online encrypted backup, restore, rekey and integrity checks.

A backup is a consistent, encrypted copy made with ``sqlcipher_export`` in one read
transaction while the app keeps running (in WAL mode readers do not block writers).
Restore rebuilds the live file from a backup in a temporary file and swaps it in
atomically, so a failed restore leaves the current database untouched.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from monitoring.errors import StoreError, WrongKeyError
from monitoring.secret import Secret
from monitoring.store.connection import SQLITE_NOTADB, Store, silence_cipher_log
from monitoring.store.keys import key_pragma, rekey_pragma

log = logging.getLogger(__name__)


def _key_value(key: Secret) -> str:
    """The key as ATTACH ... KEY expects it (raw keys keep their x'..' form)."""
    pragma = key_pragma(key)
    value = pragma.split("=", 1)[1].strip()
    if value.startswith('"'):
        return value[1:-1]
    return key.reveal()


def integrity_check(store: Store) -> str:
    with store.read() as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def backup(store: Store, target: Path, key: Secret | None = None) -> Path:
    """Write an encrypted copy of the live store to ``target`` (which must not exist)."""
    target = Path(target)
    if target.exists():
        raise StoreError(f"{target} already exists; choose a new file name for the backup")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o600)
        target.unlink()
    except OSError as exc:
        raise StoreError(f"cannot write the backup to {target}: {exc.strerror}") from exc
    # ATTACH and DETACH are refused inside a transaction, so the export's own read
    # transaction sits between them: one snapshot of every table. It is a deferred
    # (read) transaction on the live file, so in WAL mode the app keeps writing meanwhile.
    try:
        with store.read() as conn:
            conn.execute("ATTACH DATABASE ? AS backup KEY ?", (str(target), _key_value(key or store._key)))
            try:
                conn.execute("BEGIN")
                try:
                    conn.execute("SELECT sqlcipher_export('backup')")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlcipher.DatabaseError as exc:
                raise StoreError(f"the backup to {target} failed: {exc}; no backup file was left") from exc
            finally:
                conn.execute("DETACH DATABASE backup")
    except BaseException:
        target.unlink(missing_ok=True)  # never leave a half-written file that looks like a backup
        raise
    os.chmod(target, 0o600)
    log.info("backup written", extra={"path": str(target)})
    return target


def verify_backup(path: Path, key: Secret) -> str:
    """Open a backup with ``key`` and run an integrity check; return the schema version."""
    if not Path(path).is_file():
        raise StoreError(f"there is no backup file at {path}")
    silence_cipher_log()  # a wrong backup key is one clear line, not SQLCipher's hmac noise
    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        conn.execute(key_pragma(key))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) != SQLITE_NOTADB:
                raise StoreError(f"cannot read the backup {path}: {exc}") from exc
            raise WrongKeyError(f"the database key does not match the backup {path}: use the key "
                                "that was active when the backup was made") from exc
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise StoreError(f"the backup {path} failed its integrity check: {result}")
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        return str(version)
    finally:
        conn.close()


def restore(backup_path: Path, target: Path, key: Secret, backup_key: Secret | None = None) -> None:
    """Replace ``target`` with the contents of a verified backup, encrypted with ``key``."""
    verify_backup(backup_path, backup_key or key)
    target = Path(target)
    existed = target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # restoring onto a new share
    except OSError as exc:
        raise StoreError(f"cannot create the data folder {target.parent}: {exc.strerror}") from exc
    temp = target.with_name(target.name + ".restoring")
    for leftover in (temp, Path(str(temp) + "-journal")):
        if leftover.exists():
            leftover.unlink()
    conn = sqlcipher.connect(str(backup_path), isolation_level=None)
    try:
        conn.execute(key_pragma(backup_key or key))
        conn.execute("ATTACH DATABASE ? AS fresh KEY ?", (str(temp), _key_value(key)))
        conn.execute("SELECT sqlcipher_export('fresh')")
        conn.execute("DETACH DATABASE fresh")
    except sqlcipher.DatabaseError as exc:
        temp.unlink(missing_ok=True)
        state = "the current database is unchanged" if existed else "no database was written"
        raise StoreError(f"restore failed, {state}: {exc}") from exc
    finally:
        conn.close()
    os.chmod(temp, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(str(target) + suffix)
        if side.exists():
            side.unlink()
    os.replace(temp, target)
    log.info("database restored", extra={"from": str(backup_path), "to": str(target)})


def rekey(store: Store, new_key: Secret) -> None:
    """Re-encrypt the live store with ``new_key``; the old key stops working at once."""
    with store._write_lock:
        store.close()
        conn = sqlcipher.connect(str(store.path), isolation_level=None)
        try:
            conn.execute(key_pragma(store._key))
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute(rekey_pragma(new_key))
        except sqlcipher.DatabaseError as exc:
            raise StoreError(f"rekey failed: {exc}; the database still uses the old key") from exc
        finally:
            conn.close()
    log.warning("database re-encrypted with a new key; update MONITOR_DB_KEY (or keep the new "
                "key file) before the next start")
