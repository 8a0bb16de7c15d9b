"""One scoring call: breaker -> POST with retries -> capped read -> mapped rows.

Retries are urllib3's ``Retry`` (see retry.py) mounted through requests'
``HTTPAdapter``; this module sets one up per call, reads the reply without trusting its
size or pace, and turns every failure into an ``EndpointError`` subclass that the
pipeline records as the pull's error.

Retried: connection errors, timeouts, 408, 429 and 5xx except 501/505. Not retried:
other 4xx, and 424, Azure ML's "the model container failed" status, because the same
request to the same model almost always fails the same way; the breaker counts it and
the next scheduled pull tries again. A reply cut short after its headers is not retried
either (the request already cost a full scoring run).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from ml_client.auth import EndpointAuth, TokenCredential, auth_for
from ml_client.breaker import CircuitBreaker
from ml_client.errors import (
    DeadlineExceeded,
    EndpointError,
    EndpointTimeout,
    MalformedResponseError,
    ResponseTooLargeError,
    snippet_of,
)
from ml_client.failures import REQUEST_ID_HEADERS, status_error, transport_error
from ml_client.mapping import RejectedItem, map_response
from ml_client.retry import CallBudget, DeadlineRetry, RetryStopped
from ml_client.settings import EndpointSettings
from ml_client.watchdog import DeadlineAdapter

log = logging.getLogger("ml_client.client")

CHUNK_BYTES = 64 * 1024
ERROR_BODY_BYTES = 4096
DEPLOYMENT_HEADER = "azureml-model-deployment"
USER_AGENT = "prediction-monitor/0.1 (+ml_client)"


@dataclass(frozen=True)
class ScoreResult:
    """A successful call: mapped rows, items that could not be rows, and how the call went."""

    rows: list[dict[str, Any]]
    rejected: list[RejectedItem]
    latency_ms: float
    attempts: int
    status: int
    request_id: str | None = None
    deployment: str | None = None
    bytes_received: int = 0


class ScoringClient:
    """Calls one Azure ML online endpoint. Thread-safe: calls are serialised by a lock.

    ``session`` may be shared; the client mounts its adapter on the scoring URI only.
    ``clock`` (monotonic seconds) drives the deadline and, unless ``breaker`` is given,
    the breaker; ``sleep`` and ``rng`` drive retry waits and their jitter. ``auth``
    replaces the auth chosen from ``settings.api_key`` / ``credential`` (e.g. a
    ``TokenAuth`` with its own epoch clock).
    """

    def __init__(self, settings: EndpointSettings, *, credential: TokenCredential | None = None,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.monotonic,
                 breaker: CircuitBreaker | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, auth: EndpointAuth | None = None) -> None:
        self.settings = settings
        self.breaker = breaker or CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown,
                                                 clock=clock)
        self._auth = auth or auth_for(settings.api_key, credential)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._adapter = DeadlineAdapter(pool_connections=1, pool_maxsize=2)
        self._session.mount(settings.scoring_uri, self._adapter)
        self._body = settings.request_bytes()
        self._host = urlsplit(settings.scoring_uri).hostname or "the endpoint"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> ScoringClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def score(self) -> ScoreResult:
        """POST the request template and return mapped rows; raises an EndpointError subclass."""
        with self._lock:
            start = self._clock()
            try:
                self.breaker.allow()
            except EndpointError as exc:
                log.warning("scoring call not sent: %s", exc, extra={"attempts": 0, "status": None})
                raise
            try:
                result = self._call(start)
            except EndpointError as exc:
                # A failure before any HTTP attempt (our credential) says nothing about the endpoint.
                if exc.attempts > 0:
                    self.breaker.record_failure()
                else:
                    self.breaker.release()
                elapsed_ms = (self._clock() - start) * 1000
                log.warning("scoring call failed (%s, status=%s, attempts=%d, elapsed_ms=%.0f): %s",
                            type(exc).__name__, exc.status, exc.attempts, elapsed_ms, exc,
                            extra={"status": exc.status, "attempts": exc.attempts,
                                   "elapsed_ms": round(elapsed_ms)})
                raise
            except BaseException:
                self.breaker.release()
                raise
            self.breaker.record_success()
            log.info("scored %d rows (%d rejected items) in %.0f ms, attempts=%d, status=%d",
                     len(result.rows), len(result.rejected), result.latency_ms, result.attempts,
                     result.status, extra={"attempts": result.attempts, "status": result.status,
                                           "elapsed_ms": round(result.latency_ms)})
            return result

    # -- one call --

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if self.settings.deployment:
            headers[DEPLOYMENT_HEADER] = self.settings.deployment
        return headers

    def _call(self, start: float) -> ScoreResult:
        s = self.settings
        budget = CallBudget(deadline=start + s.total_deadline, clock=self._clock, sleep=self._sleep,
                            rng=self._rng)
        self._adapter.max_retries = DeadlineRetry.for_call(
            max_attempts=s.max_attempts, backoff_factor=s.backoff_factor, backoff_max=s.backoff_max,
            backoff_jitter=s.backoff_jitter, max_retry_after=s.max_retry_after, budget=budget)
        watch = self._adapter.watch
        watch.arm(budget.remaining())  # read timeouts bound each recv, not dribbled headers
        try:
            try:
                response = self._session.post(
                    s.scoring_uri, data=self._body, headers=self._headers(), auth=self._auth,
                    timeout=(s.connect_timeout, s.read_timeout), stream=True, allow_redirects=False)
            finally:
                watch.disarm()
        except (RetryStopped, requests.RequestException, Urllib3HTTPError, OSError) as exc:
            raise self._post_error(exc, budget, start, cut_at_deadline=watch.fired) from exc
        if watch.fired:  # http.client takes EOF inside the headers for their end: not a reply
            response.close()
            raise self._post_error(None, budget, start, cut_at_deadline=True)
        return self._finish(response, budget, start)

    def _post_error(self, exc: BaseException | None, budget: CallBudget, start: float, *,
                    cut_at_deadline: bool) -> EndpointError:
        if cut_at_deadline:
            return EndpointTimeout(
                f"no complete reply within the call's deadline ({self.settings.total_deadline:.0f} s, "
                f"{budget.attempts} attempt(s)): the endpoint accepted the request but sends its reply "
                "headers very slowly; the next pull will try again", attempts=budget.attempts,
                status=budget.last_status)
        if isinstance(exc, RetryStopped):
            return DeadlineExceeded(
                f"gave up after {budget.attempts} attempt(s) in {self._clock() - start:.1f} s: "
                f"{exc.reason}; the next pull will try again", attempts=budget.attempts,
                status=exc.status, retry_after=exc.retry_after)
        assert exc is not None
        return self._transport_error(exc, budget, start)

    def _finish(self, response: requests.Response, budget: CallBudget, start: float) -> ScoreResult:
        s = self.settings
        with response:
            status = response.status_code
            if not 200 <= status < 300:
                body = self._read(response, budget, start, ERROR_BODY_BYTES, strict=False)
                error = status_error(status, response.headers, body, attempts=budget.attempts,
                                     elapsed=self._clock() - start, uses_token=self._auth.uses_token,
                                     secrets=self._auth.secret_values())
                if status in (401, 403):
                    self._auth.invalidate()
                raise error
            body = self._read(response, budget, start, s.max_response_bytes, strict=True)
            headers = response.headers
        try:
            mapped = map_response(body, s.field_mapping)
        except MalformedResponseError as exc:
            exc.attempts, exc.status = budget.attempts, status
            raise
        return ScoreResult(
            rows=mapped.rows, rejected=mapped.rejected, latency_ms=(self._clock() - start) * 1000,
            attempts=budget.attempts, status=status,
            request_id=next((headers[h] for h in REQUEST_ID_HEADERS if headers.get(h)), None),
            deployment=headers.get(DEPLOYMENT_HEADER) or s.deployment, bytes_received=len(body))

    def _read(self, response: requests.Response, budget: CallBudget, start: float, cap: int,
              strict: bool) -> bytes:
        """The body, at most ``cap`` bytes (strict: more is an error), abandoned at a deadline.

        read1 returns whatever one socket read brings, so a server dribbling bytes cannot
        keep us here even though each read beats the read timeout. The body must be in by
        the call's deadline, or one read timeout after the headers if that is later (a
        reply whose headers came just in time still gets a fair chance).
        """
        deadline = max(budget.deadline, self._clock() + self.settings.read_timeout)
        length = response.headers.get("Content-Length", "")
        if strict and length.isdigit() and int(length) > cap:
            raise ResponseTooLargeError(
                f"the endpoint's reply announces {int(length):,} bytes, more than the "
                f"{cap:,}-byte limit; send a smaller batch", attempts=budget.attempts,
                status=response.status_code)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if self._clock() >= deadline:
                    if not strict:
                        return b"".join(chunks)
                    raise EndpointTimeout(
                        f"the reply was still arriving ({size:,} bytes so far) when the call's "
                        f"deadline passed ({self._clock() - start:.1f} s); the endpoint is sending "
                        "very slowly: the next pull will try again", attempts=budget.attempts,
                        status=response.status_code)
                chunk = response.raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > cap:
                    if not strict:
                        chunks.append(chunk)
                        return b"".join(chunks)[:cap]
                    raise ResponseTooLargeError(
                        f"the endpoint's reply is larger than the {cap:,}-byte limit; reading stopped "
                        "there. Send a smaller batch, or check that the scoring URI is right",
                        snippet=snippet_of(b"".join(chunks[:1]) or chunk), attempts=budget.attempts,
                        status=response.status_code)
                chunks.append(chunk)
        except (Urllib3HTTPError, OSError, requests.RequestException) as exc:
            if not strict:
                return b"".join(chunks)
            raise self._transport_error(exc, budget, start, status=response.status_code,
                                        reading_body=True) from exc

    def _transport_error(self, exc: BaseException, budget: CallBudget, start: float, *,
                         status: int | None = None, reading_body: bool = False) -> EndpointError:
        return transport_error(
            exc, host=self._host, attempts=budget.attempts,
            status=status if status is not None else budget.last_status,
            elapsed=self._clock() - start, connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout, reading_body=reading_body)
