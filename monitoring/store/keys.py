"""Where the database key comes from, and how it is handed to SQLCipher.

Production must bring ``MONITOR_DB_KEY`` (config refuses to start otherwise). In
development the first run writes a random 256-bit raw key to ``<data dir>/db.key``
(mode 0600) and warns once, so ``make run`` needs nothing. A key of exactly 64 hex
digits is used as a raw key (no PBKDF2, so opening costs microseconds instead of
~230 ms); anything else is a passphrase that SQLCipher stretches.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path

from monitoring.errors import ConfigError, StoreError
from monitoring.secret import Secret

log = logging.getLogger(__name__)

KEY_FILE_NAME = "db.key"
COOKIE_KEY_FILE_NAME = "cookie.key"
_RAW_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


def key_pragma(key: Secret) -> str:
    """The ``PRAGMA key`` statement for a key (PRAGMA takes no bound parameters)."""
    value = key.reveal()
    if _RAW_KEY.match(value):
        return f"PRAGMA key = \"x'{value}'\""
    return "PRAGMA key = '" + value.replace("'", "''") + "'"


def rekey_pragma(key: Secret) -> str:
    return key_pragma(key).replace("PRAGMA key", "PRAGMA rekey", 1)


def new_raw_key() -> Secret:
    return Secret(secrets.token_hex(32))


def resolve_key(env_key: Secret | None, data_dir: Path, production: bool) -> Secret:
    """The key from the environment, or (development only) the generated key file."""
    if env_key:
        return env_key
    if production:
        raise ConfigError("MONITOR_DB_KEY is not set; production never generates a database key")
    return _generated(data_dir / KEY_FILE_NAME, "database key", "MONITOR_DB_KEY")


def resolve_cookie_key(env_key: Secret | None, data_dir: Path, production: bool) -> Secret:
    """The login-cookie signing key from AUTH_COOKIE_KEY, or (development only) a generated file."""
    if env_key:
        return env_key
    if production:
        raise ConfigError("AUTH_COOKIE_KEY is not set; production never generates a cookie key")
    return _generated(data_dir / COOKIE_KEY_FILE_NAME, "login-cookie key", "AUTH_COOKIE_KEY")


def write_key_file(path: Path, key: Secret, *, exclusive: bool = False) -> None:
    """Write ``key`` to ``path`` (mode 0600) and fsync it; ``exclusive`` refuses an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key.reveal() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _generated(key_file: Path, what: str, variable: str) -> Secret:
    """Read a development key file, creating it (mode 0600, warned once) on first use."""
    try:
        if key_file.exists():
            value = key_file.read_text(encoding="utf-8").strip()
            if not value:
                raise ConfigError(f"{key_file} is empty; restore it or set {variable}")
            return Secret(value)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = new_raw_key()
        write_key_file(key_file, key, exclusive=True)
    except FileExistsError:
        return _generated(key_file, what, variable)  # another process created it first
    except OSError as exc:
        raise StoreError(f"cannot read or create the development {what} file {key_file}: "
                         f"{exc.strerror}; check the permissions of MONITOR_DATA_DIR") from exc
    log.warning("generated a development %s in %s (mode 0600); set %s in production and keep "
                "this file with the database", what, key_file, variable)
    return key
