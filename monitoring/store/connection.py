"""The encrypted SQLite store: a small pool of long-lived SQLCipher connections.

Opening a SQLCipher connection with a passphrase costs ~230 ms of key derivation,
so connections live as long as the process and are shared: readers borrow one from
the pool, writers serialise on one lock and run ``BEGIN IMMEDIATE`` transactions, so
a pull's rows and its record commit together or not at all. This module is the only
place that sees the key.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from monitoring.errors import StoreError, WrongKeyError
from monitoring.secret import Secret
from monitoring.store.keys import key_pragma
from monitoring.store.schema import MIGRATIONS

log = logging.getLogger(__name__)

Connection = sqlcipher.Connection
DatabaseError = sqlcipher.DatabaseError
_SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_NOTADB = 26
_silenced = False
_silence_lock = threading.Lock()


def silence_cipher_log() -> None:
    """SQLCipher prints 'hmac check failed' to stderr on a wrong key; silence it (process-wide)."""
    global _silenced
    with _silence_lock:
        if _silenced:
            return
        probe = sqlcipher.connect(":memory:")
        try:
            probe.execute("PRAGMA cipher_log_level = NONE")
        finally:
            probe.close()
        _silenced = True


class Store:
    """Pool of keyed connections to one database file, plus transaction helpers."""

    def __init__(self, path: Path, key: Secret, *, journal_mode: str = "wal",
                 pool_size: int = 4, busy_timeout_ms: int = 10_000,
                 cache_mb: int = 64, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable
        self._key = key
        self.journal_mode = journal_mode
        self._busy_timeout_ms = busy_timeout_ms
        self._cache_kib = cache_mb * 1024
        self._pool: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._pool_size = pool_size
        self._opened = 0
        self._open_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False
        # (epoch seconds, message) of the failing write, for health: cleared by the next
        # successful commit, and (last_write_failure) kept as history.
        self.last_write_error: tuple[float, str] | None = None
        self.last_write_failure: tuple[float, str] | None = None
        silence_cipher_log()
        first = self._connect(verify=True)
        try:
            self._configure_file(first)
            self._migrate(first)
        except BaseException:
            first.close()
            raise
        self._opened = 1
        self._pool.put(first)

    # -- connections -------------------------------------------------------------------
    def _connect(self, verify: bool = False) -> Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self.path.touch(mode=0o600)
            conn = sqlcipher.connect(str(self.path), check_same_thread=False,
                                     isolation_level=None, timeout=self._busy_timeout_ms / 1000)
        except (OSError, DatabaseError) as exc:
            raise StoreError(f"cannot open the database at {self.path}: {exc}; check that "
                             "MONITOR_DATA_DIR exists and is writable") from exc
        try:
            conn.execute(key_pragma(self._key))
            if verify:
                self._verify_key(conn)
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA cache_size = -{int(self._cache_kib)}")
            conn.execute("PRAGMA temp_store = MEMORY")
            sync = ("NORMAL" if self.journal_mode == "wal" else "FULL") if self.durable else "OFF"
            conn.execute(f"PRAGMA synchronous = {sync}")
        except WrongKeyError:
            conn.close()
            raise
        except DatabaseError as exc:
            conn.close()
            raise StoreError(f"cannot configure the database at {self.path}: {exc}") from exc
        return conn

    def _verify_key(self, conn: Connection) -> None:
        """Read the schema once: the cheapest operation that proves the key is right."""
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) != SQLITE_NOTADB:
                # Not a key problem: the file cannot be opened (read-only disk, missing WAL
                # index, permissions). Saying "wrong key" here would send operators astray.
                raise StoreError(f"cannot open the database at {self.path}: {exc}; check that "
                                 "MONITOR_DATA_DIR is mounted and writable") from exc
            if self._plaintext_file():
                raise WrongKeyError(
                    f"the database at {self.path} is a plain, unencrypted SQLite file; this "
                    "product only opens SQLCipher stores: move it aside or import its data") from exc
            raise WrongKeyError(
                f"the database key does not match the database at {self.path}: set MONITOR_DB_KEY "
                "to the key it was created with (or restore the key file / a backup); "
                "the file was not modified") from exc

    def _plaintext_file(self) -> bool:
        try:
            with open(self.path, "rb") as handle:
                return handle.read(16) == _SQLITE_HEADER
        except OSError:
            return False

    def _configure_file(self, conn: Connection) -> None:
        try:
            mode = conn.execute(f"PRAGMA journal_mode = {self.journal_mode}").fetchone()[0]
        except DatabaseError as exc:
            raise StoreError(f"cannot set journal mode {self.journal_mode}: {exc}") from exc
        if str(mode).lower() != self.journal_mode:
            log.warning("journal mode %s was requested but SQLite uses %s for %s",
                        self.journal_mode, mode, self.path)

    def _migrate(self, conn: Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                     "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                     "applied_at INTEGER NOT NULL)")
        for version, description, sql in MIGRATIONS:
            with self._write_lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    done = conn.execute("SELECT 1 FROM schema_version WHERE version = ?",
                                        (version,)).fetchone()
                    if not done:
                        for statement in _statements(sql):
                            conn.execute(statement)
                        conn.execute("INSERT INTO schema_version VALUES (?, ?, "
                                     "CAST(strftime('%s','now') AS INTEGER) * 1000)",
                                     (version, description))
                        log.info("applied schema migration %d: %s", version, description)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise

    def schema_version(self) -> int:
        with self.read() as conn:
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _borrow(self) -> Connection:
        if self._closed:
            raise StoreError("the store is closed")
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._open_lock:
            if self._opened < self._pool_size:
                self._opened += 1
                try:
                    return self._connect()
                except BaseException:
                    self._opened -= 1
                    raise
        return self._pool.get(timeout=30)

    # -- public API --------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Borrow a connection for reads (autocommit; each statement sees committed data)."""
        conn = self._borrow()
        try:
            yield conn
        except DatabaseError as exc:
            raise StoreError(f"database read failed: {exc}") from exc
        finally:
            self._pool.put(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        with self._write_lock:
            conn = self._borrow()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                self.last_write_error = None
            except DatabaseError as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except DatabaseError:
                        pass  # SQLite already rolled back (e.g. the disk is full)
                self.last_write_error = self.last_write_failure = (time.time(), str(exc))
                raise StoreError(f"database write failed: {exc}; nothing was saved") from exc
            finally:
                self._pool.put(conn)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm", "-journal"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                total += candidate.stat().st_size
        return total


def _statements(script: str) -> list[str]:
    """Split a migration script on ';' (the schema has no triggers or string semicolons)."""
    return [part.strip() for part in script.split(";") if part.strip()]
