"""Command line: replay, run-once, import, users, backup, restore, rekey, baseline.

Every command turns a ``MonitoringError`` into one line on stderr and exit code 2
(1 is left to argparse usage errors); nothing prints a traceback for a bad key, a
missing setting or a bad file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from monitoring.cli import admin, baseline, data, users
from monitoring.errors import MonitoringError

log = logging.getLogger("monitoring.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring",
        description="Prediction Monitor: pull, analyse and administer the encrypted store.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data.register(sub)
    users.register(sub)
    admin.register(sub)
    baseline.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except MonitoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
