"""Rows -> pulls: one compact, validated structure that every statistic works on.

A pull is the batch of rows scored at one moment (rows sharing a timestamp, or a
given pull id). Storing pulls as CSR-style offsets keeps the hot paths vectorised
(``np.add.reduceat``) instead of looping over Python lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from monitoring.errors import ValidationError


def to_epoch_seconds(times: Any) -> np.ndarray:
    """Epoch seconds (float64) from aware datetimes, datetime64 or numbers; naive datetimes are refused."""
    if isinstance(times, datetime | int | float | np.datetime64):
        times = [times]
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[us]").astype(np.int64).astype(np.float64) / 1e6
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64)
    out = np.empty(arr.shape[0], dtype=np.float64)
    for i, moment in enumerate(arr.tolist()):
        if not isinstance(moment, datetime):
            raise ValidationError(f"timestamp #{i} is {type(moment).__name__}, expected a datetime")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError(f"timestamp #{i} ({moment.isoformat()}) has no timezone; use UTC")
        out[i] = moment.timestamp()
    return out


def iso(seconds: float) -> str:
    """ISO 8601 UTC text for JSON output."""
    return datetime.fromtimestamp(float(seconds), tz=UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str | float) -> float:
    """Inverse of :func:`iso` (numbers pass through)."""
    if isinstance(text, int | float):
        return float(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def finite_values(values: Any, what: str = "values") -> np.ndarray:
    """Values as float64, refusing NaN/inf with a message that says what to do."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValidationError(f"{what} contain NaN or infinite numbers; validate rows before drift checks")
    return arr


@dataclass(frozen=True)
class Pulls:
    """Rows grouped by pull: ``values[offsets[j]:offsets[j+1]]`` were scored at ``times[j]``."""

    times: np.ndarray
    offsets: np.ndarray
    values: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_pulls(self) -> int:
        return int(self.times.size)

    @property
    def n_rows(self) -> int:
        return int(self.values.size)

    def means(self) -> np.ndarray:
        return np.add.reduceat(self.values, self.offsets[:-1]) / self.sizes

    def slice(self, start: int, stop: int) -> Pulls:
        """Pulls ``start:stop`` as a new structure (offsets rebased)."""
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        return Pulls(self.times[start:stop].copy(), self.offsets[start:stop + 1] - lo,
                     self.values[lo:hi].copy())

    @classmethod
    def from_batches(cls, times: Sequence[float], batches: Sequence[np.ndarray]) -> Pulls:
        sizes = np.array([len(b) for b in batches], dtype=np.int64)
        if np.any(sizes == 0):
            raise ValidationError("a pull has no rows; drop empty pulls before drift checks")
        values = np.concatenate([finite_values(b) for b in batches]) if batches else np.zeros(0)
        return cls(np.asarray(times, dtype=np.float64), np.concatenate(([0], np.cumsum(sizes))), values)


def group_pulls(times: Any, values: Any, pull_ids: Any = None) -> Pulls:
    """Group rows into pulls (by ``pull_ids`` if given, else by equal timestamps), in time order."""
    t = to_epoch_seconds(times)
    v = finite_values(values)
    if t.size != v.size:
        raise ValidationError(f"{t.size} timestamps but {v.size} values; pass one timestamp per row")
    if v.size == 0:
        raise ValidationError("no rows given")
    keys = t if pull_ids is None else np.asarray(pull_ids)
    if keys.shape[0] != v.size:
        raise ValidationError("pull_ids must have one entry per row")
    order = np.lexsort((keys, t)) if pull_ids is not None else np.argsort(t, kind="stable")
    t, v, keys = t[order], v[order], keys[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    pull_t = t[starts]
    if np.any(np.diff(pull_t) <= 0):
        raise ValidationError("two pulls share a timestamp; give each pull its own time")
    return Pulls(pull_t, np.concatenate((starts, [v.size])).astype(np.int64), v)
