"""Collects every secret the test run hands out, and scans what the run logged for them.

Fixtures register their secrets. ``install()`` hooks ``logging`` for the whole session so
that *every* record reaches the scan file (test-artifacts/session-logs.log), whatever the
levels, propagation or logger filters say:

- a record a logger emits is written when it enters ``Logger.handle``, before the
  logger's filters, whether or not it propagates (Streamlit's loggers do not);
- a record below its logger's level (``LOG_LEVEL=WARNING`` in a test, a library's DEBUG
  lines) is built anyway and written to the scan file only: the product's handlers never
  see it, so what the tests observe and the product's levels are unchanged.

A record is written as the handlers it reaches would write it at DEBUG: through the
product's JSON formatter (with its redaction) once ``configure_logging`` installed it on
the root, raw through Streamlit's own plain-text handler, raw when it has no handler.
Child processes' stderr goes to files under ``TELEMETRY_DIR`` (``subprocess_stderr``),
as do telemetry payloads. At the end the scan file and every file under ``TELEMETRY_DIR``
(emptied at session start) must contain none of the registered secrets.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from monitoring.telemetry import JsonFormatter, RedactingFilter

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOG_FILE = ARTIFACTS / "session-logs.log"
TELEMETRY_DIR = ARTIFACTS / "telemetry"
SESSION_LOCK = ARTIFACTS / "session.lock"  # the pid of the session that wiped TELEMETRY_DIR
SECRETS: set[str] = set()

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "warn": logging.WARNING, "error": logging.ERROR, "critical": logging.CRITICAL,
           "fatal": logging.CRITICAL}
_SEEN = "_secret_scan_seen"  # marks a record already written (the JSON formatter skips "_" names)
_counter = itertools.count(1)


def register(*values: str | None) -> None:
    SECRETS.update(v for v in values if v and len(v) >= 8)


# -- what was written, and what of it is secret --

def _forms(secret: str) -> set[str]:
    """The secret as it appears raw, and inside a JSON string (where quotes and slashes escape)."""
    return {secret, json.dumps(secret)[1:-1], json.dumps(json.dumps(secret)[1:-1])[1:-1]}


def _found(name: str, text: str, secrets: Iterable[str]) -> list[str]:
    return [f"{name}: {s[:4]}..." for s in secrets if any(f in text for f in _forms(s))]


def find_leaks(paths: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """Which of ``secrets`` occur in which of ``paths`` (as 'file: first chars...'); files only."""
    wanted = list(secrets)
    found = []
    for path in paths:
        if path.is_file():
            found += _found(path.name, path.read_text(encoding="utf-8", errors="replace"), wanted)
    return found


def scanned_files() -> list[Path]:
    log_file = _scan.path if _scan is not None else LOG_FILE
    telemetry = sorted(p for p in TELEMETRY_DIR.rglob("*") if p.is_file()) if TELEMETRY_DIR.exists() else []
    return [log_file, *telemetry]


def leaks() -> list[str]:
    """Secrets found in the session's logs or telemetry captures (as 'file: first chars...').

    The session's own log is read through its open handle, so it is scanned even if
    something removed the file meanwhile.
    """
    wanted = sorted(SECRETS)
    if _scan is None:
        return find_leaks(scanned_files(), wanted)
    return _found(_scan.path.name, _scan.text(), wanted) + find_leaks(scanned_files()[1:], wanted)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _other_live_session() -> int | None:
    """The pid of another test session still using test-artifacts/ (the checkout may be shared)."""
    try:
        pid = int(SESSION_LOCK.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() and _alive(pid) else None


def reset_artifacts() -> bool:
    """Empty ``TELEMETRY_DIR`` at session start: files of earlier runs are not this run's.

    Returns False, wiping nothing, while another live session uses the folder (its files
    would vanish under it); this session then writes its own log file (``log_file()``).
    """
    if _other_live_session() is not None:
        return False
    shutil.rmtree(TELEMETRY_DIR, ignore_errors=True)
    for stale in ARTIFACTS.glob("session-logs*"):
        pid = stale.stem.rpartition("-")[2]
        if not (pid.isdigit() and _alive(int(pid))):  # a session-logs-<pid>.log still being written
            stale.unlink(missing_ok=True)
    TELEMETRY_DIR.mkdir(parents=True, exist_ok=True)
    SESSION_LOCK.write_text(str(os.getpid()))
    return True


def release_artifacts() -> None:
    """At session end: let the next session wipe (only if this one holds the folder)."""
    if SESSION_LOCK.exists() and SESSION_LOCK.read_text().strip() == str(os.getpid()):
        SESSION_LOCK.unlink(missing_ok=True)


def log_file(owner: bool) -> Path:
    """The scan file: the shared name for the session owning test-artifacts/, else one per process."""
    return LOG_FILE if owner else LOG_FILE.with_name(f"session-logs-{os.getpid()}.log")


def subprocess_stderr(name: str, suffix: str = ".stderr") -> IO[bytes]:
    """A new file under ``TELEMETRY_DIR`` for a child process's stderr, so the scan reads it.

    Use it instead of ``stderr=subprocess.DEVNULL`` (or a pipe nobody keeps). The child has
    its own copy of the descriptor, so the file may be closed once the process started::

        with secret_scan.subprocess_stderr("kill9-import") as stderr:
            proc = subprocess.Popen([...], stderr=stderr, ...)
        ...
        Path(stderr.name).read_text()  # what the child wrote, e.g. for an assertion message
    """
    TELEMETRY_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "child"
    return (TELEMETRY_DIR / f"{safe}-{os.getpid()}-{next(_counter)}{suffix}").open("wb")


def save_output(name: str, text: str) -> Path:
    """Keep text a test captured (a child's stdout, response bodies) under ``TELEMETRY_DIR``."""
    with subprocess_stderr(name, ".out") as file:
        file.write(text.encode("utf-8", errors="replace"))
    return Path(file.name)


# -- the logging hook --

class _ScanFile:
    """The session's scan file: what each record's handlers would write, thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.stream: IO[str] | None = path.open("w+", encoding="utf-8", errors="replace")
        self.fallback = JsonFormatter()  # the product's, for a record no handler would write yet
        self.plain = logging.Formatter()  # what logging uses for a handler without a formatter
        self.errors = 0

    @staticmethod
    def _writers(logger: logging.Logger, record: logging.LogRecord) -> list[logging.StreamHandler]:
        """The text-writing handlers (stderr, files) the record reaches, at their own levels.

        Other handlers are not imitated: pytest's capture is not an output, NullHandler
        writes nothing, and the App Insights forwarder's payloads are captured where they
        land (the fake ingestion server saves them under ``TELEMETRY_DIR``).
        """
        handlers: list[logging.Handler] = []
        node: logging.Logger | None = logger
        while node is not None:
            handlers += node.handlers
            if not node.propagate:
                break  # Streamlit's loggers stop here, with their own plain-text handler
            node = node.parent
        return [h for h in handlers if isinstance(h, logging.StreamHandler) and record.levelno >= h.level
                and not type(h).__module__.startswith("_pytest")]

    def _lines(self, logger: logging.Logger, record: logging.LogRecord) -> list[str]:
        """Each writer's formatting of the record, redacted as its filters would redact it.

        A record no writer takes (before configure_logging installed the product's handler)
        is written as that handler would write it.
        """
        lines = []
        for handler in self._writers(logger, record):
            line = (handler.formatter or self.plain).format(record)
            for f in handler.filters:
                if isinstance(f, RedactingFilter):
                    line = f.redactor.text(line)
            lines.append(line)
        return list(dict.fromkeys(lines)) or [self.fallback.format(record)]

    def write(self, logger: logging.Logger, record: logging.LogRecord) -> None:
        try:
            lines = self._lines(logger, record)
        except Exception:  # noqa: BLE001 - a record the product could not format either
            self.errors += 1
            return
        with self.lock:
            if self.stream is not None:
                self.stream.write("".join(line + "\n" for line in lines))

    def text(self) -> str:
        """Everything written so far, read back through the handle."""
        with self.lock:
            if self.stream is None:
                return self.path.read_text(encoding="utf-8", errors="replace") if self.path.is_file() else ""
            self.stream.flush()
            end = self.stream.tell()
            self.stream.seek(0)
            text = self.stream.read()
            self.stream.seek(end)
            return text

    def flush(self) -> None:
        with self.lock:
            if self.stream is not None:
                self.stream.flush()

    def detach(self) -> None:
        """In a forked child: write nothing (the parent owns the file and its buffer)."""
        self.lock = threading.RLock()  # another thread of the parent may have held it at the fork
        self.stream = None

    def close(self) -> None:
        with self.lock:
            if self.stream is not None:
                self.stream.close()
                self.stream = None


_scan: _ScanFile | None = None
_originals: dict[tuple[type, str], Callable[..., Any]] = {}


def _exc_info(value: Any) -> Any:
    if not value:
        return None
    if isinstance(value, BaseException):
        return type(value), value, value.__traceback__
    return value if isinstance(value, tuple) else sys.exc_info()


def _operator_can_enable(logger: logging.Logger) -> bool:
    """Whether some setting makes this logger write below its present level.

    True when its level comes from the root (``LOG_LEVEL``) or from Streamlit (its
    ``logger.level`` option). False for a level pinned in code whatever the settings,
    e.g. urllib3's, azure's and apscheduler's, which ``configure_logging`` keeps at
    WARNING even with ``LOG_LEVEL=DEBUG``: no configuration ever writes those records.
    """
    node: logging.Logger | None = logger
    while node is not None and node.level == logging.NOTSET:
        node = node.parent
    if node is None or node is logging.getLogger():
        return True
    streamlit_logger = sys.modules.get("streamlit.logger")
    return node in getattr(streamlit_logger, "_loggers", {}).values()


def _below_level(logger: logging.Logger, level: int, msg: object, args: tuple,
                 kwargs: dict[str, Any]) -> None:
    """A record the product drops: build it as ``Logger._log`` would, for the scan file only."""
    scan = _scan
    if scan is None or not _operator_can_enable(logger):
        return
    try:
        record = logger.makeRecord(logger.name, level, "(below the logger's level)", 0, msg, args,
                                   _exc_info(kwargs.get("exc_info")), None, kwargs.get("extra"),
                                   None)
    except Exception:  # noqa: BLE001 - e.g. an 'extra' key the product would refuse too
        scan.errors += 1
        return
    scan.write(logger, record)


def _level_method(name: str, level: int) -> Callable[..., None]:
    original = logging.Logger.__dict__[name]

    @functools.wraps(original)
    def method(self: logging.Logger, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # report the caller, not this frame
            original(self, msg, *args, **kwargs)
        else:
            _below_level(self, level, msg, args, kwargs)

    return method


def _log_method(owner: type) -> Callable[..., None]:
    """``Logger.log`` or ``LoggerAdapter.log``: pass enabled records on, scan the rest."""
    def method(self: Any, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not isinstance(level, int) or self.isEnabledFor(level):
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
            _originals[(owner, "log")](self, level, msg, *args, **kwargs)
        elif isinstance(self, logging.LoggerAdapter):
            msg, kwargs = self.process(msg, kwargs)
            _below_level(self.logger, level, msg, args, kwargs)
        else:
            _below_level(self, level, msg, args, kwargs)

    return method


def _handle(self: logging.Logger, record: logging.LogRecord) -> None:
    scan = _scan
    if scan is not None and not getattr(record, _SEEN, False):
        setattr(record, _SEEN, True)
        scan.write(self, record)
    _originals[(logging.Logger, "handle")](self, record)


def install(path: Path = LOG_FILE) -> _ScanFile:
    """Hook ``logging`` so that every record of this process is written to ``path``; idempotent."""
    global _scan
    if _scan is not None:
        return _scan
    path.parent.mkdir(parents=True, exist_ok=True)
    _scan = _ScanFile(path)
    patches: dict[tuple[type, str], Callable[..., Any]] = {
        **{(logging.Logger, name): _level_method(name, level) for name, level in _LEVELS.items()
           if name in logging.Logger.__dict__},  # Logger.warn is gone in Python 3.13
        (logging.Logger, "log"): _log_method(logging.Logger), (logging.Logger, "handle"): _handle,
        (logging.LoggerAdapter, "log"): _log_method(logging.LoggerAdapter)}
    for (owner, name), patched in patches.items():
        _originals[(owner, name)] = owner.__dict__[name]
        setattr(owner, name, patched)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=flush, after_in_child=lambda: _scan.detach() if _scan else None)
    return _scan


def uninstall() -> None:
    """Undo ``install`` and close the scan file."""
    global _scan
    for (owner, name), original in _originals.items():
        setattr(owner, name, original)
    _originals.clear()
    if _scan is not None:
        _scan.close()
        _scan = None


def flush() -> None:
    if _scan is not None:
        _scan.flush()


def scan_errors() -> int:
    """Records that could not be formatted for the scan (the product could not log them either)."""
    return _scan.errors if _scan is not None else 0
