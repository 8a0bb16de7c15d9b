"""``/health/ready?probe=1``: one real scoring call, only when an operator asks for it.

A plain ping never calls the endpoint: App Service pings every instance every minute
and each scoring call costs a model run. The probe makes a single attempt with a short
timeout through its own client and breaker (so it can neither trip nor reset the
pipeline's breaker), reuses one auth object (an Entra token is fetched once, not per
probe), and ``HealthService.probe`` rate-limits it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from health.checker import DEGRADED, HEALTHY, Check
from ml_client import EndpointAuth, ScoringClient, auth_for
from monitoring.context import Monitor
from monitoring.endpoint import effective_settings, emit_scoring_call
from monitoring.errors import EndpointError
from monitoring.telemetry import REDACTOR

NAME = "endpoint_probe"
PROBE_TIMEOUT_SECONDS = 5.0


class EndpointProbe:
    """Callable for ``HealthService(probe=...)``: returns a Check, never raises."""

    def __init__(self, monitor: Monitor, *, timeout: float = PROBE_TIMEOUT_SECONDS,
                 credential: Any = None,
                 client_factory: Callable[..., ScoringClient] = ScoringClient) -> None:
        self.monitor = monitor
        self.timeout = timeout
        self.credential = credential
        self.client_factory = client_factory
        self._auth: EndpointAuth | None = None

    def __call__(self) -> Check:
        base = self.monitor.config.endpoint
        if base is None:
            return Check(NAME, HEALTHY, "demo mode: no endpoint is configured, so there is nothing "
                         "to probe", {"demo_mode": True})
        try:
            settings = replace(effective_settings(base, self.monitor.settings.effective()),
                               max_attempts=1, read_timeout=min(self.timeout, base.read_timeout),
                               connect_timeout=min(self.timeout, base.connect_timeout),
                               total_deadline=self.timeout + 1.0, breaker_threshold=1)
            if self._auth is None:
                self._auth = auth_for(base.api_key, self.credential)
        except Exception as exc:  # noqa: BLE001 - a probe reports, never raises
            return Check(NAME, DEGRADED, f"the probe could not be prepared: {type(exc).__name__}")
        target = urlsplit(base.scoring_uri).netloc
        started = time.perf_counter()
        client = self.client_factory(settings, auth=self._auth)
        try:
            result = client.score()
        except EndpointError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            emit_scoring_call(base.scoring_uri, "probe", elapsed, ok=False, status=exc.status,
                              attempts=exc.attempts, error_type=type(exc).__name__)
            message = REDACTOR.text(str(exc))[:300]
            return Check(NAME, DEGRADED, f"the endpoint probe failed: {message}",
                         {"target": target, "status_code": exc.status, "attempts": exc.attempts,
                          "latency_ms": round(elapsed, 1)})
        except Exception as exc:  # noqa: BLE001
            return Check(NAME, DEGRADED, f"the endpoint probe failed: {type(exc).__name__}",
                         {"target": target})
        finally:
            client.close()
        elapsed = (time.perf_counter() - started) * 1000
        emit_scoring_call(base.scoring_uri, "probe", elapsed, ok=True, status=result.status,
                          attempts=result.attempts, rows=len(result.rows),
                          deployment=result.deployment)
        return Check(NAME, HEALTHY, f"the endpoint answered {result.status} with {len(result.rows)} "
                     f"row(s) in {elapsed:.0f} ms",
                     {"target": target, "status_code": result.status, "attempts": result.attempts,
                      "latency_ms": round(elapsed, 1), "rows": len(result.rows)})
