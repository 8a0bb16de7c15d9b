"""Helpers shared by the CLI commands."""

from __future__ import annotations

import getpass
import sys

from monitoring.actors import SYSTEM, Actor
from monitoring.context import Monitor, open_monitor
from monitoring.errors import ValidationError

CLI_ACTOR = Actor("cli", SYSTEM.role)  # whoever runs the CLI has shell access to the key


def monitor() -> Monitor:
    return open_monitor()


def read_secret(prompt: str, from_stdin: bool, confirm: bool = True) -> str:
    """A password or key from stdin (one line) or, on a terminal, a hidden prompt."""
    if from_stdin or not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("again: ") != value:
            raise ValidationError("the two entries do not match")
    if not value:
        raise ValidationError("nothing was entered")
    return value
