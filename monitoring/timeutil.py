"""Time conversions in one place: the store keeps UTC epoch milliseconds.

Integers sort and compare fast in SQLite indexes and cannot carry a wrong zone,
so every timestamp crosses the store boundary through these two functions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitoring.errors import ValidationError


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of a timezone-aware datetime (naive ones are refused)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(f"timestamp {moment.isoformat()} has no timezone; use UTC, e.g. ...Z")
    return int(round(moment.timestamp() * 1000))


def from_ms(ms: int | float) -> datetime:
    """UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that must carry a timezone ('Z' accepted)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise ValidationError(f"'{str(text)[:40]}' is not an ISO 8601 timestamp") from exc
    if moment.tzinfo is None:
        raise ValidationError(f"timestamp '{str(text)[:40]}' has no timezone; add Z or +00:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValidationError(f"'{str(text)[:40]}' is outside the years 1 to 9999 in UTC") from exc


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, for JSON and pages."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utcnow() -> datetime:
    """The real clock; injected everywhere else so tests never sleep."""
    return datetime.now(UTC)
