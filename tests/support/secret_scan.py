"""Collects every secret the test run hands out, and scans what the run logged for them.

Fixtures register their secrets; a handler using the production JSON formatter (with
its redaction) writes every log record of the session to test-artifacts/session-logs.jsonl;
at the end the file (and any captured telemetry payloads) must contain none of them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from monitoring.telemetry import JsonFormatter

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOG_FILE = ARTIFACTS / "session-logs.jsonl"
TELEMETRY_DIR = ARTIFACTS / "telemetry"
SECRETS: set[str] = set()


def register(*values: str | None) -> None:
    SECRETS.update(v for v in values if v and len(v) >= 8)


def install() -> logging.Handler:
    ARTIFACTS.mkdir(exist_ok=True)
    handler = logging.FileHandler(LOG_FILE, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))
    return handler


def leaks() -> list[str]:
    """Secrets found in the session's logs or telemetry captures (as 'file: first chars')."""
    found = []
    files = [LOG_FILE, *sorted(TELEMETRY_DIR.glob("*"))] if TELEMETRY_DIR.exists() else [LOG_FILE]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.name}: {s[:4]}..." for s in SECRETS if s in text]
    return found
