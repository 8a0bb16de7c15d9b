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
    key_file = data_dir / KEY_FILE_NAME
    try:
        if key_file.exists():
            value = key_file.read_text(encoding="ascii").strip()
            if not value:
                raise ConfigError(f"{key_file} is empty; restore it or set MONITOR_DB_KEY")
            return Secret(value)
        data_dir.mkdir(parents=True, exist_ok=True)
        key = new_raw_key()
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.reveal() + "\n")
    except OSError as exc:
        raise StoreError(f"cannot read or create the development key file {key_file}: "
                         f"{exc.strerror}; check the permissions of MONITOR_DATA_DIR") from exc
    log.warning("generated a development database key in %s (mode 0600); set MONITOR_DB_KEY "
                "in production and keep this file with the database", key_file)
    return key
