"""One exception tree for the whole product.

Callers catch ``MonitoringError`` at the edges (CLI, scheduler job, page) and show
``str(exc)``: every message says what went wrong and what to do next, so no
traceback ever needs to reach a user.
"""

from __future__ import annotations


class MonitoringError(Exception):
    """Base of every error this product raises on purpose."""


class ConfigError(MonitoringError):
    """A setting or environment variable is missing or invalid."""


class StoreError(MonitoringError):
    """The encrypted store cannot be opened, read or written."""


class WrongKeyError(StoreError):
    """The database key does not match the database file."""


class EndpointError(MonitoringError):
    """The Azure ML scoring endpoint failed or answered something unusable.

    ``attempts`` counts HTTP attempts made (0 when the call never left the process,
    e.g. the breaker was open); ``status`` is the last HTTP status, if any.
    """

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class ValidationError(MonitoringError):
    """Input (a row, a setting, a file) is invalid; the message names the field and why."""


class PermissionDeniedError(MonitoringError):
    """The current user's role does not allow this action."""
