"""The Azure ML endpoint as a cycle source: runtime settings applied, breaker kept.

Admins change the deployment, timeout, attempts and breaker on the settings page;
the client is rebuilt when they change, but the breaker object survives so its
state is not reset by an unrelated edit. Every failure becomes a failed ``Fetched``
(with the attempt count and status), and a reply that is not JSON is quarantined.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ml_client import (
    BreakerOpenError,
    CircuitBreaker,
    EndpointSettings,
    MalformedResponseError,
    ScoringClient,
    identity_mapping,
)
from monitoring import events
from monitoring.errors import EndpointError
from monitoring.sources import Fetched

log = logging.getLogger(__name__)


def effective_settings(base: EndpointSettings, settings: Mapping[str, Any]) -> EndpointSettings:
    """The environment's endpoint settings with the admin's runtime options applied."""
    mapping = identity_mapping(*settings["monitored_fields"])
    mapping.update({src: dst for src, dst in settings["field_mapping"].items()
                    if dst in settings["monitored_fields"] and src not in mapping})
    return replace(base,
                   deployment=settings["endpoint_deployment"] or base.deployment,
                   read_timeout=float(settings["endpoint_timeout_seconds"]),
                   max_attempts=int(settings["retry_max_attempts"]),
                   breaker_threshold=int(settings["breaker_failure_threshold"]),
                   breaker_cooldown=float(settings["breaker_cooldown_seconds"]),
                   field_mapping=mapping)


class EndpointSource:
    """Fetches a slot's predictions from the scoring endpoint."""

    name = "azure_ml"

    def __init__(self, base: EndpointSettings, settings: Callable[[], Mapping[str, Any]],
                 *, client_factory: Callable[..., ScoringClient] = ScoringClient,
                 credential: Any = None, breaker_clock: Callable[[], float] | None = None) -> None:
        self.base = base
        self.settings = settings
        self.client_factory = client_factory
        self.credential = credential
        self.breaker_clock = breaker_clock
        self._lock = threading.Lock()
        self._client: ScoringClient | None = None
        self._built_from: EndpointSettings | None = None
        self._breaker: CircuitBreaker | None = None

    def client(self) -> ScoringClient:
        wanted = effective_settings(self.base, self.settings())
        with self._lock:
            if self._client is None or wanted != self._built_from:
                if self._breaker is None:
                    clock = {"clock": self.breaker_clock} if self.breaker_clock else {}
                    self._breaker = CircuitBreaker(wanted.breaker_threshold, wanted.breaker_cooldown,
                                                   **clock)
                else:
                    self._breaker.threshold = wanted.breaker_threshold
                    self._breaker.cooldown = wanted.breaker_cooldown
                if self._client is not None:
                    self._client.close()
                self._client = self.client_factory(wanted, credential=self.credential,
                                                   breaker=self._breaker)
                self._built_from = wanted
            return self._client

    def breaker_state(self) -> str | None:
        return str(self._breaker.snapshot().state) if self._breaker else None

    def breaker_snapshot(self) -> Any:
        return self._breaker.snapshot() if self._breaker else None

    def fetch(self, slot: datetime) -> Fetched:
        started = time.perf_counter()
        fetched = self._fetch()
        if fetched.attempts:  # 0: nothing was sent (breaker open, no credential)
            emit_scoring_call(self.base.scoring_uri, "pull", (time.perf_counter() - started) * 1000,
                              ok=fetched.ok, status=fetched.http_status, attempts=fetched.attempts,
                              rows=len(fetched.items), deployment=fetched.extra.get("deployment"))
        return fetched

    def _fetch(self) -> Fetched:
        try:
            client = self.client()
            result = client.score()
        except MalformedResponseError as exc:
            return Fetched(self.name, rejected=[(exc.snippet, f"the reply is not usable: {exc}")],
                           ok=False, attempts=exc.attempts, http_status=exc.status, error=str(exc),
                           breaker_state=self.breaker_state())
        except BreakerOpenError as exc:
            return Fetched(self.name, ok=False, attempts=0, error=str(exc),
                           breaker_state=self.breaker_state())
        except EndpointError as exc:
            return Fetched(self.name, ok=False, attempts=exc.attempts, http_status=exc.status,
                           error=str(exc), breaker_state=self.breaker_state())
        rejected = [(json.dumps(item.raw, default=str)[:2000], item.reason) for item in result.rejected]
        return Fetched(self.name, result.rows, rejected, ok=True, latency_ms=result.latency_ms,
                       attempts=result.attempts, http_status=result.status,
                       breaker_state=self.breaker_state(),
                       extra={"request_id": result.request_id, "deployment": result.deployment})


def emit_scoring_call(uri: str, purpose: str, duration_ms: float, *, ok: bool, status: int | None,
                      attempts: int, rows: int = 0, deployment: str | None = None,
                      error_type: str | None = None) -> None:
    """The ``scoring_call`` event (a dependency in App Insights): host and path, never the query."""
    parts = urlsplit(uri)
    target = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    events.emit(events.SCORING_CALL, {
        "purpose": purpose, "method": "POST", "scheme": parts.scheme, "target": target,
        "path": parts.path or "/", "success": ok,
        "result_code": str(status) if status else (error_type or "no_response"),
        "error_type": error_type, "deployment": deployment},
        {"duration_ms": duration_ms, "attempts": attempts, "rows": rows})
