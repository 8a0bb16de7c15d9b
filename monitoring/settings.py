"""Runtime settings: the schema, validation, defaults, and the audited update service.

Settings live in the store and override defaults; the environment only seeds a few
(e.g. the pull interval). Every change is validated with a message that names the
setting, is refused unless the actor is an admin, and is written together with an
audit row (who, when, old, new) in one transaction.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitoring import events
from monitoring.actors import Actor, require_admin
from monitoring.errors import ValidationError
from monitoring.notify.urls import check_page_url, check_webhook_url, masked, protect
from monitoring.store import Audit, Settings, Store
from monitoring.timeutil import to_ms, utcnow
from monitoring.validation import FIELD_NAME

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Spec:
    """One setting: type, default, bounds and the words shown on the settings page."""

    key: str
    label: str
    group: str
    kind: str  # int | float | bool | str | choice | fields | mapping | ranges | thresholds | secret
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    check: Callable[[Any], None] | None = field(default=None, compare=False)

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}\Z")


def check_deployment_name(value: str) -> None:
    """Azure ML deployment names (letters, digits, dashes; at most 32): it is sent as a header."""
    if value and not DEPLOYMENT_NAME.match(value):
        raise ValidationError("must be an Azure ML deployment name: letters, digits and dashes, "
                              "at most 32 characters (e.g. blue)")


def _fields(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError("list at least one field name")
    out = []
    for name in value:
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise ValidationError(f"'{str(name)[:40]}' is not a valid field name "
                                  "(letters, digits and _)")
        if name not in out:
            out.append(name)
    return out


def _mapping(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("give an object of response name -> monitored field")
    out = {}
    for src, dst in value.items():
        if not isinstance(src, str) or not src or len(src) > 128:
            raise ValidationError(f"response name '{str(src)[:40]}' must be a short non-empty text")
        out[src] = _fields([dst])[0]
    return out


def _ranges(value: Any) -> dict[str, dict[str, float | None]]:
    if not isinstance(value, Mapping):
        raise ValidationError("give an object of field -> {min, max}")
    out: dict[str, dict[str, float | None]] = {}
    for name, spec in value.items():
        _fields([name])
        if not isinstance(spec, Mapping) or set(spec) - {"min", "max"}:
            raise ValidationError(f"range of '{name}' must be {{\"min\": ..., \"max\": ...}}")
        bounds = {k: _finite(spec.get(k), f"{name}.{k}") for k in ("min", "max")}
        if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
            raise ValidationError(f"range of '{name}': min is above max")
        out[name] = bounds
    return out


def _thresholds(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValidationError("give an object of method -> threshold")
    out = {}
    for name, threshold in value.items():
        number = _finite(threshold, str(name))
        if number is None or number <= 0:
            raise ValidationError(f"threshold of '{name}' must be a positive number")
        out[str(name)] = number
    return out


def _finite(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a number".strip())
    try:
        number = float(value)
    except OverflowError as exc:  # an int beyond float range
        raise ValidationError(f"{name} must be a finite number".strip()) from exc
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be a number, got '{str(value)[:40]}'".strip()) from exc
    if not math.isfinite(number):
        raise ValidationError(f"{name} must be a finite number".strip())
    return number


_KINDS: dict[str, Callable[[Any], Any]] = {
    "fields": _fields, "mapping": _mapping, "ranges": _ranges, "thresholds": _thresholds,
}

SEED_FIELDS = ["archived_gb_predicted", "savings_gb_predicted", "confidence_interval"]

SPECS: tuple[Spec, ...] = (
    Spec("pull_interval_minutes", "Pull interval (minutes)", "Schedule", "int", 60, 1, 1440,
         help="How often the scheduler pulls predictions. Takes effect without a restart."),
    Spec("monitored_fields", "Monitored fields", "Fields", "fields", SEED_FIELDS,
         help="Numeric outputs checked for drift; a new one needs no migration."),
    Spec("field_mapping", "Response field mapping", "Fields", "mapping",
         {name: name for name in [*SEED_FIELDS]},
         help="Response name -> monitored field name."),
    Spec("field_ranges", "Valid ranges", "Fields", "ranges",
         {"archived_gb_predicted": {"min": 0.0, "max": None},
          "savings_gb_predicted": {"min": 0.0, "max": None},
          "confidence_interval": {"min": 0.0, "max": 1.0}},
         help="Rows outside these ranges are quarantined with the reason."),
    Spec("false_alarms_per_30d", "False-alarm budget (per field per 30 days)", "Drift", "float",
         1.0, 0.01, 30.0,
         help="Thresholds are calibrated on the reference so that false alarms stay within this."),
    Spec("reference_min_days", "Reference minimum span (days)", "Drift", "float", 7.0, 1.0, 90.0,
         help="At least a week captures the weekly cycle."),
    Spec("reference_min_rows", "Reference minimum rows", "Drift", "int", 168, 24, 10_000_000),
    Spec("window_pulls", "Window (pulls) for distribution tests", "Drift", "int", 24, 3, 2000),
    Spec("resolve_after_clean_checks", "Resolve after N clean checks", "Alerts", "int", 6, 1, 1000,
         help="An episode resolves itself after this many clean checks in a row."),
    Spec("threshold_overrides", "Threshold overrides", "Drift", "thresholds", {},
         help="Method -> fixed threshold; replaces the calibrated one (audited)."),
    Spec("min_severity_to_notify", "Notify at or above", "Alerts", "choice", "warning",
         choices=SEVERITIES),
    Spec("endpoint_failures_before_alert", "Failed pulls before an endpoint alert", "Alerts", "int",
         3, 1, 100),
    Spec("scheduler_stale_factor", "Scheduler stale after (x interval)", "Alerts", "float", 2.0,
         1.1, 24.0),
    Spec("mock_fallback", "Simulated fallback when the endpoint fails", "Endpoint", "bool", True,
         help="Fallback rows are stored as source 'mock' and never analysed when an endpoint "
              "is configured."),
    Spec("endpoint_deployment", "Deployment header", "Endpoint", "str", "",
         help="azureml-model-deployment; empty = the environment's AZURE_ML_DEPLOYMENT.",
         check=check_deployment_name),
    Spec("endpoint_timeout_seconds", "Read timeout (s)", "Endpoint", "float", 60.0, 0.05, 600.0),
    Spec("retry_max_attempts", "Attempts per pull", "Endpoint", "int", 4, 1, 10),
    Spec("breaker_failure_threshold", "Breaker opens after N failed pulls", "Endpoint", "int", 3,
         1, 100),
    Spec("breaker_cooldown_seconds", "Breaker cool-down (s)", "Endpoint", "float", 900.0, 1.0,
         86_400.0),
    Spec("retention_days", "Keep predictions (days)", "Retention", "int", 400, 7, 3650),
    Spec("metrics_retention_days", "Keep operational metrics (days)", "Retention", "int", 90, 1, 3650),
    Spec("lockout_attempts", "Lock after N failed logins", "Users", "int", 5, 1, 100),
    Spec("lockout_minutes", "Lockout (minutes)", "Users", "float", 15.0, 1.0, 1440.0),
    Spec("cookie_expiry_days", "Login cookie lifetime (days)", "Users", "float", 1.0, 0.01, 30.0),
    Spec("notify_enabled", "Send notifications", "Notifications", "bool", True,
         help="Off: new alert events are not queued; queued ones wait until it is on again."),
    Spec("notify_webhook_url", "Webhook URL (JSON)", "Notifications", "secret", "",
         help="Receives one JSON document per alert event, with an X-Monitor-Delivery id to drop "
              "duplicates. Write-only; https only.", check=check_webhook_url),
    Spec("notify_slack_webhook_url", "Slack incoming webhook URL", "Notifications", "secret", "",
         help="From a Slack app's Incoming Webhooks page. Write-only.", check=check_webhook_url),
    Spec("notify_teams_webhook_url", "Microsoft Teams webhook URL", "Notifications", "secret", "",
         help="A Teams Workflows 'post to a channel when a webhook request is received' URL "
              "(or a legacy incoming webhook). Write-only.", check=check_webhook_url),
    Spec("notify_max_attempts", "Give up after N delivery attempts", "Notifications", "int", 10, 1, 50,
         help="Retries back off from 30 s to an hour; 10 attempts cover about 3 hours of outage."),
    Spec("dashboard_url", "Dashboard address (for links)", "Notifications", "str", "",
         help="e.g. https://monitor.example.com; notifications link to the alert there.",
         check=check_page_url),
)
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


def coerce(spec: Spec, value: Any) -> Any:
    """The value in its canonical type, or ValidationError naming the setting."""
    try:
        if spec.kind in _KINDS:
            return _KINDS[spec.kind](value)
        if spec.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValidationError("must be true or false")
        if spec.kind in ("str", "secret"):
            if not isinstance(value, str) or len(value) > 2000:
                raise ValidationError("must be a text of at most 2000 characters")
            if spec.check is not None:
                try:
                    spec.check(value.strip())
                except ValueError as exc:  # e.g. urlsplit("http://[") in a check
                    raise ValidationError(f"is not valid ({exc})") from exc
            return value.strip()
        if spec.kind == "choice":
            if value not in spec.choices:
                raise ValidationError(f"must be one of {', '.join(spec.choices)}")
            return value
        number = _finite(value, "")
        if number is None:
            raise ValidationError("is required")
        if spec.kind == "int":
            if number != int(number):
                raise ValidationError("must be a whole number")
            number = int(number)
        if spec.low is not None and number < spec.low or spec.high is not None and number > spec.high:
            raise ValidationError(f"must be between {spec.low:g} and {spec.high:g}")
        return number
    except ValidationError as exc:
        raise ValidationError(f"{spec.label}: {exc}") from exc


class SettingsService:
    """Reads effective settings and applies audited, validated, admin-only changes."""

    def __init__(self, store: Store, env_defaults: Mapping[str, Any] | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.env_defaults = dict(env_defaults or {})
        self.clock = clock

    def defaults(self) -> dict[str, Any]:
        values = {spec.key: spec.default for spec in SPECS}
        values.update({k: v for k, v in self.env_defaults.items() if k in SPEC_BY_KEY})
        return values

    def effective(self) -> dict[str, Any]:
        """Defaults overlaid with stored values (stored values that no longer validate are ignored)."""
        values = self.defaults()
        with self.store.read() as conn:
            stored = Settings(conn).all()
        for key, value in stored.items():
            spec = SPEC_BY_KEY.get(key)
            if spec is None:
                continue
            try:
                values[key] = coerce(spec, value)
            except ValidationError:
                continue
        for spec in SPECS:
            if spec.secret and values[spec.key]:
                protect(values[spec.key])  # configured in any process: never logged in this one
        return values

    def display(self) -> dict[str, Any]:
        """Effective settings safe to show: secrets (webhook URLs) masked as 'configured (…abcd)'."""
        values = self.effective()
        return {key: masked(value) if SPEC_BY_KEY[key].secret else value
                for key, value in values.items()}

    def validate(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """All changes coerced, or one ValidationError listing every bad setting."""
        clean: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in changes.items():
            spec = SPEC_BY_KEY.get(key)
            if spec is None:
                problems.append(f"'{key}' is not a setting")
                continue
            try:
                clean[key] = coerce(spec, value)
            except ValidationError as exc:
                problems.append(str(exc))
        if problems:
            raise ValidationError("; ".join(problems))
        return clean

    def update(self, actor: Actor, changes: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Apply changes as ``actor``; return {key: (old, new)} for what actually changed."""
        require_admin(actor, "change settings")
        current = self.effective()
        # A form that echoes the masked display value back means "keep the secret".
        changes = {k: v for k, v in changes.items()
                   if not (k in SPEC_BY_KEY and SPEC_BY_KEY[k].secret and v == masked(current[k]))}
        clean = self.validate(changes)
        for key, value in clean.items():
            if SPEC_BY_KEY[key].secret:
                protect(value)
        now = to_ms(self.clock())
        changed: dict[str, tuple[Any, Any]] = {}
        with self.store.transaction() as conn:
            settings, audit = Settings(conn), Audit(conn)
            for key, value in clean.items():
                old = current.get(key)
                if old == value:
                    continue
                spec = SPEC_BY_KEY[key]
                settings.put(key, value, now, actor.username)
                shown_old, shown_new = ("***", "***") if spec.secret else (old, value)
                audit.add(now, actor.username, "settings.update", key, shown_old, shown_new)
                changed[key] = (shown_old, shown_new)
        if changed:  # values as audited: secret kinds are already "***"
            events.emit(events.SETTINGS_CHANGED, {
                "actor": actor.username, "keys": ",".join(sorted(changed)),
                "changes": json.dumps({k: list(v) for k, v in changed.items()}, default=str)[:4000]})
        return changed
