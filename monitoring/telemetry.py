"""Structured JSON logs with a cycle/request id, and redaction of secrets.

Redaction runs in the handler, after formatting, over the message, every ``extra``
value and the exception text: known secret values (the keys this process holds) are
replaced, and so is anything shaped like a credential (Bearer tokens, JWTs,
``Password=``/``AccountKey=``/``InstrumentationKey=`` pairs, SQLCipher key pragmas).
A secret that reaches a log call by mistake is therefore still not written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

MASK = "***"
_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "monitor_log_context", default=None)

_PATTERNS = [
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
    re.compile(r"(?i)(\b(?:instrumentationkey|accountkey|sharedaccesskey|sharedaccesssignature|"
               r"password|passwd|pwd|sig|api[_-]?key|client[_-]?secret|access[_-]?token|"
               r"refresh[_-]?token|secret|token|key)\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^;&\s,\"'}]+)"),
    re.compile(r"(?i)(pragma\s+(?:re)?key\s*=\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
]
_SECRET_NAMES = re.compile(r"(?i)(pass(word)?|secret|token|api[_-]?key|authorization|cookie|"
                           r"connection[_-]?string|credential|db[_-]?key|^key$)")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class Redactor:
    """Replaces secret values and credential-shaped text with a mask."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            merged = set(self._secrets) | {s for s in secrets if s and len(s) >= 4}
            self._secrets = sorted(merged, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        for pattern in _PATTERNS:
            value = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + MASK, value)
        return value

    def value(self, name: str, value: Any) -> Any:
        if _SECRET_NAMES.search(name):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(name if isinstance(v, dict) else "", v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.text(str(value))


REDACTOR = Redactor()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context ids, extras."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": self.redactor.text(record.getMessage()),
        }
        entry.update(_context.get() or {})
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = self.redactor.value(name, value)
        if record.exc_info:
            entry["exc"] = self.redactor.text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class RedactingFilter(logging.Filter):
    """For handlers that are not ours (e.g. plain text): redact the message in place."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        return True


class QuietReplayFilter(logging.Filter):
    """Drop INFO and DEBUG lines logged inside replayed cycles.

    A backtest from the settings page replays weeks of hourly cycles inside the app's own
    process; their routine lines would bury the app's. Warnings and errors still show.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or (_context.get() or {}).get("cycle_kind") != "replay"


_configured = False
_configure_lock = threading.Lock()


def configured_level() -> str | None:
    """The root level once ``configure_logging`` ran (None before): a scratch monitor (replay)
    opened inside the app must keep it instead of resetting the process's level."""
    return logging.getLevelName(logging.getLogger().level) if _configured else None


def configure_logging(level: str = "INFO", secrets: Iterable[str] = (), stream: Any = None) -> None:
    """Install the JSON handler on the root logger once; later calls only add secrets."""
    global _configured
    REDACTOR.add(secrets)
    with _configure_lock:
        if _configured:
            logging.getLogger().setLevel(level)
            return
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(QuietReplayFilter())
        handler.set_name("monitor-json")
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level)
        for noisy in ("urllib3", "azure", "apscheduler"):
            logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
        _configured = True


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def log_context(**ids: str) -> Iterator[dict[str, str]]:
    """Attach ids (cycle_id, request_id, ...) to every log line inside the block."""
    merged = {**(_context.get() or {}), **ids}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get() or {})
