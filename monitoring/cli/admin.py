"""``backup PATH``, ``restore PATH``, ``rekey``, ``check``: store maintenance."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from monitoring.cli.common import monitor, read_secret
from monitoring.config import load_config
from monitoring.errors import ConfigError, StoreError
from monitoring.secret import Secret
from monitoring.store.keys import KEY_FILE_NAME, new_raw_key, resolve_key
from monitoring.store.maintenance import backup, integrity_check, rekey, restore


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("backup", help="write an online, encrypted backup to PATH")
    parser.add_argument("path", type=Path)
    parser.set_defaults(handler=_backup)

    parser = sub.add_parser("restore", help="replace the database with a backup (stop the app first)")
    parser.add_argument("path", type=Path)
    parser.add_argument("--backup-key-stdin", action="store_true",
                        help="the backup was made under another key: read that key from stdin")
    parser.set_defaults(handler=_restore)

    parser = sub.add_parser("rekey", help="re-encrypt the database with a new key (stop the app first)")
    parser.add_argument("--new-key-stdin", action="store_true",
                        help="read the new key from stdin (required in production)")
    parser.set_defaults(handler=_rekey)

    parser = sub.add_parser("check", help="open the store and run PRAGMA integrity_check")
    parser.set_defaults(handler=_check)


def _backup(args: argparse.Namespace) -> int:
    path = backup(monitor().store, args.path)
    print(f"backup written to {path} (encrypted with the current key)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    config = load_config()
    key = resolve_key(config.db_key, config.data_dir, config.production)
    backup_key = Secret(read_secret("backup key: ", True, False)) if args.backup_key_stdin else None
    restore(args.path, config.db_path, key, backup_key)
    print(f"restored {config.db_path} from {args.path}")
    return 0


def _rekey(args: argparse.Namespace) -> int:
    config = load_config()
    if config.production and not args.new_key_stdin:
        raise ConfigError("in production pass --new-key-stdin and store the same key in "
                          "MONITOR_DB_KEY (Key Vault) before restarting")
    new_key = Secret(read_secret("new key: ", True, False)) if args.new_key_stdin else new_raw_key()
    store = monitor().store
    rekey(store, new_key)
    key_file = config.data_dir / KEY_FILE_NAME
    if config.db_key is None and key_file.exists():
        temp = key_file.with_suffix(".new")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_key.reveal() + "\n")
        os.replace(temp, key_file)
        print(f"re-encrypted; the new key is in {key_file}")
    else:
        print("re-encrypted; set MONITOR_DB_KEY to the new key before the next start")
    return 0


def _check(args: argparse.Namespace) -> int:
    result = integrity_check(monitor().store)
    if result != "ok":
        raise StoreError(f"integrity check failed: {result}")
    print("ok")
    return 0
