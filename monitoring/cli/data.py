"""``run-once``, ``import FILE.csv``, ``replay``: data commands (filled in with the pipeline)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    return None
