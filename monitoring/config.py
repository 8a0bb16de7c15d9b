"""Environment -> one frozen ``Config``, checked once at start-up.

Every variable of the configuration contract (DESIGN.md) is read here and nowhere
else, so a missing or malformed value fails at start with one message that names the
variable, instead of deep inside a cycle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ml_client.settings import EndpointSettings
from ml_client.settings import from_env as endpoint_from_env
from monitoring.errors import ConfigError
from monitoring.secret import Secret

ENVIRONMENTS = ("development", "production")
JOURNAL_MODES = ("wal", "delete", "truncate")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_COOKIE_KEY = 32  # HS256 wants a key at least as long as its 256-bit output


@dataclass(frozen=True)
class Config:
    """Process-wide configuration from the environment."""

    env: str
    data_dir: Path
    db_key: Secret | None
    admin_password: Secret | None
    cookie_key: Secret | None
    pull_interval_minutes: int
    endpoint: EndpointSettings | None
    appinsights_connection_string: Secret | None
    log_level: str
    journal_mode: str
    drift_budget_seconds: float = 2.0  # a live cycle's drift work; the rest is caught up after it

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "monitor.db"

    @property
    def demo_mode(self) -> bool:
        """No endpoint configured: the product runs on labelled simulated data."""
        return self.endpoint is None

    def secrets(self) -> list[str]:
        """Every secret value this process knows, for log redaction."""
        values = [self.db_key, self.admin_password, self.cookie_key,
                  self.appinsights_connection_string]
        if self.endpoint and self.endpoint.api_key:
            values.append(self.endpoint.api_key)  # type: ignore[arg-type]
        return [s.reveal() for s in values if s]


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _secret(environ: Mapping[str, str], name: str) -> Secret | None:
    value = _text(environ, name)
    return Secret(value) if value else None


def _number(environ: Mapping[str, str], name: str, default: float, low: float, high: float,
            integer: bool = False) -> float:
    raw = _text(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError as exc:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name}={raw!r} is not {kind}; use a value between {low:g} and {high:g}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw} is out of range; use a value between {low:g} and {high:g}")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str,
            upper: bool = False) -> str:
    raw = _text(environ, name)
    if raw is None:
        return default
    value = raw.upper() if upper else raw.lower()
    if value not in choices:
        raise ConfigError(f"{name}={raw!r} is not one of: {', '.join(choices)}")
    return value


def _default_journal_mode(environ: Mapping[str, str], data_dir: Path) -> str:
    """WAL on local disk; DELETE on App Service's /home share, where WAL does not work."""
    on_app_service = bool(_text(environ, "WEBSITE_SITE_NAME"))
    resolved = data_dir.resolve()
    on_share = on_app_service and (resolved == Path("/home") or Path("/home") in resolved.parents)
    return "delete" if on_share else "wal"


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read and check the environment; raise ``ConfigError`` naming the bad variable."""
    environ = os.environ if environ is None else environ
    env = _choice(environ, "MONITOR_ENV", ENVIRONMENTS, "development")
    data_dir = Path(_text(environ, "MONITOR_DATA_DIR") or "./data")
    db_key = _secret(environ, "MONITOR_DB_KEY")
    cookie_key = _secret(environ, "AUTH_COOKIE_KEY")
    if env == "production":
        missing = [name for name, value in (("MONITOR_DB_KEY", db_key),
                                            ("AUTH_COOKIE_KEY", cookie_key)) if not value]
        if missing:
            raise ConfigError(
                f"MONITOR_ENV=production needs {' and '.join(missing)}: set "
                f"{'them' if len(missing) > 1 else 'it'} (for example from Key Vault references); "
                "production never generates keys")
    if cookie_key and len(cookie_key.reveal()) < MIN_COOKIE_KEY:
        raise ConfigError(f"AUTH_COOKIE_KEY is shorter than {MIN_COOKIE_KEY} characters, too weak to sign "
                          "login cookies; generate one with: python -c \"import secrets; "
                          "print(secrets.token_hex(32))\"")
    connection = _secret(environ, "APPLICATIONINSIGHTS_CONNECTION_STRING")
    if connection is None and _text(environ, "APPINSIGHTS_INSTRUMENTATIONKEY"):
        connection = Secret(f"InstrumentationKey={_text(environ, 'APPINSIGHTS_INSTRUMENTATIONKEY')}")
    journal = _text(environ, "MONITOR_DB_JOURNAL_MODE")
    journal_mode = (_choice(environ, "MONITOR_DB_JOURNAL_MODE", JOURNAL_MODES, "wal")
                    if journal else _default_journal_mode(environ, data_dir))
    return Config(
        env=env,
        data_dir=data_dir,
        db_key=db_key,
        admin_password=_secret(environ, "MONITOR_ADMIN_PASSWORD"),
        cookie_key=cookie_key,
        pull_interval_minutes=int(_number(environ, "MONITOR_PULL_INTERVAL_MINUTES", 60, 1, 1440,
                                          integer=True)),
        endpoint=endpoint_from_env(environ),
        appinsights_connection_string=connection,
        log_level=_choice(environ, "LOG_LEVEL", LOG_LEVELS, "INFO", upper=True),
        journal_mode=journal_mode,
        drift_budget_seconds=_number(environ, "MONITOR_DRIFT_BUDGET_SECONDS", 2.0, 0.0, 600.0),
    )
