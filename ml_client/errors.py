"""Errors of the scoring client, all under ``monitoring.errors.EndpointError``.

The pipeline catches ``EndpointError`` and records the pull as failed or fallback with
``str(exc)``; the subclasses let it (and the health page) tell *why* without parsing
text. Every message says what to do next and never contains the key or a token.
"""

from __future__ import annotations

from monitoring.errors import EndpointError

SNIPPET_CHARS = 500


class EndpointTimeout(EndpointError):
    """No answer in time: connect or read timeout, or a reply still streaming at the deadline."""


class DeadlineExceeded(EndpointError):
    """Retrying would run past the call's total deadline (or past the longest Retry-After we honour)."""

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, attempts=attempts, status=status)
        self.retry_after = retry_after


class EndpointConnectionError(EndpointError):
    """The endpoint could not be reached, or the connection broke mid-reply."""


class EndpointTLSError(EndpointConnectionError):
    """TLS failed (certificate or handshake); retrying does not help."""


class EndpointHTTPError(EndpointError):
    """The endpoint answered with a non-2xx status (after any retries)."""

    def __init__(self, message: str, *, status: int, attempts: int = 0,
                 request_id: str | None = None) -> None:
        super().__init__(message, attempts=attempts, status=status)
        self.request_id = request_id


class EndpointNotFoundError(EndpointHTTPError):
    """404: the scoring URI or the deployment does not exist."""


class ModelError(EndpointHTTPError):
    """424: the model container itself failed; Azure ML's model-error headers say why."""

    def __init__(self, message: str, *, status: int = 424, attempts: int = 0,
                 request_id: str | None = None, model_status: str | None = None,
                 model_reason: str | None = None) -> None:
        super().__init__(message, status=status, attempts=attempts, request_id=request_id)
        self.model_status = model_status
        self.model_reason = model_reason


class AuthError(EndpointError):
    """No credential could be obtained (status None) or the endpoint rejected it (401/403)."""

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message, attempts=attempts, status=status)
        self.request_id = request_id


class BreakerOpenError(EndpointError):
    """The circuit breaker is open: the call was refused without touching the network."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message, attempts=0, status=None)
        self.retry_in = retry_in


class MalformedResponseError(EndpointError):
    """The reply is not usable JSON; ``snippet`` keeps its start for quarantine and support."""

    def __init__(self, message: str, *, snippet: str = "", attempts: int = 0,
                 status: int | None = None) -> None:
        super().__init__(message, attempts=attempts, status=status)
        self.snippet = snippet[:SNIPPET_CHARS]


class ResponseTooLargeError(MalformedResponseError):
    """The reply is larger than ``max_response_bytes``; reading stopped at the cap."""


def snippet_of(body: bytes | str, limit: int = SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of a body, decoded leniently, for messages and quarantine."""
    if isinstance(body, bytes):
        body = body[: limit * 4].decode("utf-8", errors="replace")
    return body[:limit]
