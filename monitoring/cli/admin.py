"""``backup PATH``, ``restore PATH``, ``rekey``, ``check``: store maintenance."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from monitoring.cli.common import monitor, read_secret
from monitoring.config import load_config
from monitoring.errors import ConfigError, StoreError
from monitoring.secret import Secret
from monitoring.store.keys import KEY_FILE_NAME, new_raw_key, resolve_key, write_key_file
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
    if not args.new_key_stdin:
        if config.production:
            raise ConfigError("in production pass --new-key-stdin and store the same key in "
                              "MONITOR_DB_KEY (Key Vault) before restarting")
        if config.db_key is not None:
            # A generated key would have nowhere to go: MONITOR_DB_KEY cannot be rewritten
            # from here, and a key nobody holds makes the store unreadable for good.
            raise ConfigError("MONITOR_DB_KEY is set: pass --new-key-stdin with the new key and put "
                              "the same key in MONITOR_DB_KEY before the next start")
    new_key = Secret(read_secret("new key: ", True, False)) if args.new_key_stdin else new_raw_key()
    key_file = config.data_dir / KEY_FILE_NAME
    keep_in_file = config.db_key is None and key_file.exists()
    staged = key_file.with_suffix(".new")
    if keep_in_file:
        # The new key is on disk before the store uses it: a crash in between leaves
        # db.key.new beside the store, never a store that no saved key opens.
        write_key_file(staged, new_key)
    try:
        rekey(monitor().store, new_key)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if keep_in_file:
        os.replace(staged, key_file)
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
