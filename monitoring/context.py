"""The process's open monitor: config, store and services, built once.

``app.py``'s lifespan, the CLI and (lazily) the pages all get the same object, so
the store's connections are opened once per process and the key never leaves it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitoring.alerts import AlertService
from monitoring.auth import UserService
from monitoring.config import Config, load_config
from monitoring.secret import Secret
from monitoring.settings import SettingsService
from monitoring.store import Store
from monitoring.store.keys import resolve_cookie_key, resolve_key
from monitoring.telemetry import REDACTOR, configure_logging
from monitoring.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass
class Monitor:
    """Everything a page, a CLI command or the scheduler needs, opened once."""

    config: Config
    store: Store
    settings: SettingsService
    users: UserService
    alerts: AlertService
    clock: Callable[[], datetime] = utcnow
    sources: tuple[str, ...] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)  # set at shutdown
    cookie_key: Secret | None = None  # signs login cookies (AUTH_COOKIE_KEY or the dev key file)

    @property
    def analysis_sources(self) -> tuple[str, ...]:
        """Real rows when an endpoint is configured; simulated rows only in demo mode."""
        if self.sources is not None:
            return self.sources
        return ("mock",) if self.config.demo_mode else ("azure_ml", "import")

    def user_service(self) -> UserService:
        """A user service with the current lockout settings."""
        values = self.settings.effective()
        return UserService(self.store, self.clock, int(values["lockout_attempts"]),
                           float(values["lockout_minutes"]))

    def close(self) -> None:
        self.store.close()


def open_monitor(config: Config | None = None, clock: Callable[[], datetime] = utcnow,
                 bootstrap_admin: bool = True, durable: bool = True,
                 sources: tuple[str, ...] | None = None) -> Monitor:
    """Resolve the key, open (and migrate) the store, and create the first admin if needed."""
    config = config or load_config()
    configure_logging(config.log_level, config.secrets())
    key = resolve_key(config.db_key, config.data_dir, config.production)
    REDACTOR.add([key.reveal()])
    store = Store(config.db_path, key, journal_mode=config.journal_mode, durable=durable)
    settings = SettingsService(store, {"pull_interval_minutes": config.pull_interval_minutes},
                               clock)
    cookie_key = resolve_cookie_key(config.cookie_key, config.data_dir, config.production)
    REDACTOR.add([cookie_key.reveal()])
    monitor = Monitor(config, store, settings, UserService(store, clock),
                      AlertService(store, clock), clock, sources, cookie_key=cookie_key)
    if bootstrap_admin:
        generated = monitor.users.ensure_admin(
            config.admin_password.reveal() if config.admin_password else None)
        if generated:
            # Printed once, on purpose: the only way to learn a generated first password.
            log.warning("created user 'admin' with a generated password (shown once, change it): "
                        "%s", generated, extra={"first_run": True})
        elif generated is None and config.admin_password:
            REDACTOR.add([config.admin_password.reveal()])
    return monitor


_current: Monitor | None = None
_current_lock = threading.Lock()


def current(factory: Callable[[], Monitor] = open_monitor) -> Monitor:
    """The process-wide monitor, opened on first use (never starts the scheduler)."""
    global _current
    with _current_lock:
        if _current is None:
            _current = factory()
        return _current


def set_current(monitor: Monitor | None) -> None:
    global _current
    with _current_lock:
        _current = monitor
