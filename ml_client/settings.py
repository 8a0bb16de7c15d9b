"""Everything the scoring client needs to know, in one frozen, checked value.

The product's own config module builds ``EndpointSettings`` from its ``Config`` and the
runtime settings; ``from_env`` is a convenience for scripts and tests. Values are
checked once, here, so a bad one fails with a ``ConfigError`` naming it instead of deep
inside a scheduled call.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from monitoring.errors import ConfigError
from monitoring.secret import Secret

#: Response field -> monitored field. Identity for the seed model's outputs; ``predicted_at``
#: is kept so that validation can use a time the endpoint sends.
DEFAULT_FIELD_MAPPING: Mapping[str, str] = MappingProxyType({
    "archived_gb_predicted": "archived_gb_predicted",
    "savings_gb_predicted": "savings_gb_predicted",
    "confidence_interval": "confidence_interval",
    "model_version": "model_version",
    "predicted_at": "predicted_at",
})

#: Azure ML's documented MLflow input shape, empty. Real deployments set AZURE_ML_REQUEST_FILE.
DEFAULT_REQUEST_BODY: Mapping[str, Any] = MappingProxyType(
    {"input_data": {"columns": [], "index": [], "data": []}})

MAX_REQUEST_FILE_BYTES = 10 * 1024 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def identity_mapping(*names: str) -> dict[str, str]:
    """The default mapping plus ``name -> name`` for extra monitored outputs."""
    return {**DEFAULT_FIELD_MAPPING, **{name: name for name in names}}


def _positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"endpoint setting {name}={value!r} must be a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ConfigError(f"endpoint setting {name}={value!r} must be {bound}")


def check_scoring_uri(url: str, name: str = "AZURE_ML_ENDPOINT_URL") -> str:
    """The URI if it is https (or http on loopback, for test servers); else ConfigError."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url.strip()
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return url.strip()
    raise ConfigError(f"{name} must be the endpoint's https:// scoring URI (plain http is accepted "
                      "for loopback test servers only); copy it from the endpoint's Consume tab")


@dataclass(frozen=True)
class EndpointSettings:
    """How to call one Azure ML online endpoint. Times are seconds; ``api_key`` is masked in repr."""

    scoring_uri: str
    api_key: Secret | str | None = None
    deployment: str | None = None
    request_body: Any = field(default_factory=lambda: _plain(DEFAULT_REQUEST_BODY), repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    backoff_factor: float = 1.0
    backoff_max: float = 30.0
    backoff_jitter: float = 1.0
    total_deadline: float = 300.0
    max_retry_after: float = 60.0
    breaker_threshold: int = 3
    breaker_cooldown: float = 900.0
    max_response_bytes: int = 50 * 1024 * 1024
    field_mapping: Mapping[str, str] = field(default_factory=lambda: DEFAULT_FIELD_MAPPING)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scoring_uri", check_scoring_uri(self.scoring_uri, "scoring_uri"))
        if isinstance(self.api_key, str):
            object.__setattr__(self, "api_key", Secret(self.api_key) if self.api_key.strip() else None)
        elif self.api_key is not None and not isinstance(self.api_key, Secret):
            raise ConfigError("endpoint setting api_key must be a string or a Secret")
        if self.deployment is not None and not self.deployment.strip():
            object.__setattr__(self, "deployment", None)
        if isinstance(self.request_body, Mapping):
            object.__setattr__(self, "request_body", _plain(self.request_body))
        if not isinstance(self.request_body, dict | list):
            raise ConfigError("endpoint setting request_body must be a JSON object or array")
        try:
            json.dumps(self.request_body, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"endpoint setting request_body is not plain JSON ({exc}); "
                              "use only objects, arrays, strings, finite numbers, booleans and null") from exc
        for name in ("connect_timeout", "read_timeout", "total_deadline", "breaker_cooldown"):
            _positive(name, getattr(self, name))
        for name in ("backoff_factor", "backoff_max", "backoff_jitter", "max_retry_after"):
            _positive(name, getattr(self, name), allow_zero=True)
        for name in ("max_attempts", "breaker_threshold", "max_response_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"endpoint setting {name}={value!r} must be a whole number of 1 or more")
        object.__setattr__(self, "field_mapping", _check_mapping(self.field_mapping))

    def __hash__(self) -> int:  # the body is a dict: hash what identifies the endpoint call
        return hash((self.scoring_uri, self.deployment, self.request_bytes()))

    def request_bytes(self) -> bytes:
        """The request body as sent: compact UTF-8 JSON."""
        return json.dumps(self.request_body, separators=(",", ":")).encode("utf-8")


def _plain(value: Any) -> Any:
    """Read-only mappings (like the default body) as plain dicts, recursively."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _check_mapping(mapping: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigError("endpoint setting field_mapping must map at least one response field "
                          "to a monitored field")
    seen: dict[str, str] = {}
    for source, target in mapping.items():
        if not isinstance(source, str) or not isinstance(target, str) or not source or not target:
            raise ConfigError("endpoint setting field_mapping must map non-empty field names to "
                              f"non-empty field names, got {source!r} -> {target!r}")
        if target in seen:
            raise ConfigError(f"endpoint setting field_mapping maps both '{seen[target]}' and "
                              f"'{source}' to '{target}'; keep one")
        seen[target] = source
    return MappingProxyType(dict(mapping))


def load_request_file(path: str | Path, name: str = "AZURE_ML_REQUEST_FILE") -> Any:
    """A JSON object or array from ``path``; ConfigError saying what is wrong with the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_REQUEST_FILE_BYTES:
            raise ConfigError(f"{name}={path} is larger than 10 MB; send a smaller request template")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}={path} cannot be read ({type(exc).__name__}); "
                          "point it at a readable UTF-8 JSON file") from exc
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{name}={path} is not valid JSON ({exc}); fix the file or unset "
                          "the variable to use the built-in request") from exc
    if not isinstance(body, dict | list):
        raise ConfigError(f"{name}={path} must hold a JSON object or array, not a "
                          f"{type(body).__name__}")
    return body


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    return value.strip() or None


def from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> EndpointSettings | None:
    """Settings from the AZURE_ML_* variables (default ``os.environ``); None when no endpoint is set.

    None means demo mode. ``overrides`` set any other field (retry policy, breaker,
    mapping). Raises ConfigError with one message naming the bad variable.
    """
    environ = os.environ if environ is None else environ
    url = _env(environ, "AZURE_ML_ENDPOINT_URL")
    if url is None:
        return None
    check_scoring_uri(url)
    values: dict[str, Any] = {"scoring_uri": url,
                              "api_key": _env(environ, "AZURE_ML_API_KEY"),
                              "deployment": _env(environ, "AZURE_ML_DEPLOYMENT")}
    request_file = _env(environ, "AZURE_ML_REQUEST_FILE")
    if request_file is not None:
        values["request_body"] = load_request_file(request_file)
    timeout = _env(environ, "AZURE_ML_TIMEOUT_SECONDS")
    if timeout is not None:
        try:
            seconds = float(timeout)
        except ValueError as exc:
            raise ConfigError(f"AZURE_ML_TIMEOUT_SECONDS={timeout!r} is not a number; use seconds "
                              "between 0.05 and 600, e.g. 60") from exc
        if not 0.05 <= seconds <= 600:
            raise ConfigError(f"AZURE_ML_TIMEOUT_SECONDS={timeout} is out of range; use seconds "
                              "between 0.05 and 600, e.g. 60")
        values["read_timeout"] = seconds
    values.update(overrides)
    return EndpointSettings(**values)
