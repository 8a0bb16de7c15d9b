"""Row validation: every prediction is checked before it is stored.

A row needs a timezone-aware time and a finite number, within range, for every
required output. Bad rows are never dropped silently: each becomes a ``Rejection``
that names the field and says why, and goes to quarantine with its raw text.
The frame path checks whole CSV columns at numpy speed and only builds messages for
the rows that fail.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from monitoring.errors import ValidationError
from monitoring.store.predictions import RowBatch, StoredRow
from monitoring.store.rejected import Rejection
from monitoring.timeutil import parse_iso, to_ms

if TYPE_CHECKING:  # pandas is imported where frames are read: it costs ~0.4 s of every CLI start
    import pandas as pd

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")  # \Z: '$' would allow a trailing newline
TIME_FIELD = "predicted_at"
VERSION_FIELD = "model_version"
MAX_VERSION_LENGTH = 128
#: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the stored times ``from_ms`` can turn back into a
#: datetime (pandas parses wider, e.g. 0001-01-01T00:00:00+01:00 as year 0).
MIN_TIME_MS, MAX_TIME_MS = -62_135_596_800_000, 253_402_300_799_999


@dataclass(frozen=True)
class FieldRule:
    """One numeric output: its name and allowed range (None = unbounded)."""

    name: str
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if not FIELD_NAME.match(self.name):
            raise ValidationError(
                f"'{self.name[:40]}' is not a valid field name: use letters, digits and _, "
                "starting with a letter or _")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        if value is None:
            return f"field '{self.name}' is missing"
        if isinstance(value, bool) or not isinstance(value, int | float):
            shown = json.dumps(value)[:40] if _jsonable(value) else type(value).__name__
            return f"field '{self.name}' must be a number, got {type(value).__name__} {shown}"
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range (JSON allows 400 digits)
            return f"field '{self.name}' must be a finite number, got an integer too large for a float"
        if not math.isfinite(number):
            return f"field '{self.name}' must be a finite number, got {number}"
        if self.minimum is not None and number < self.minimum:
            return f"field '{self.name}' is {number:g}, below the minimum {self.minimum:g}"
        if self.maximum is not None and number > self.maximum:
            return f"field '{self.name}' is {number:g}, above the maximum {self.maximum:g}"
        return None


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


DEFAULT_RULES: dict[str, FieldRule] = {
    "archived_gb_predicted": FieldRule("archived_gb_predicted", minimum=0.0),
    "savings_gb_predicted": FieldRule("savings_gb_predicted", minimum=0.0),
    "confidence_interval": FieldRule("confidence_interval", minimum=0.0, maximum=1.0),
}


@dataclass(frozen=True)
class RowSchema:
    """Which outputs a row must carry, and their ranges."""

    required: tuple[FieldRule, ...]
    max_rows: int = 1_000_000

    @classmethod
    def for_fields(cls, names: Sequence[str], ranges: Mapping[str, Mapping[str, Any]] | None = None,
                   max_rows: int = 1_000_000) -> RowSchema:
        rules = []
        for name in names:
            spec = (ranges or {}).get(name)
            if spec is not None:
                rules.append(FieldRule(name, spec.get("min"), spec.get("max")))
            else:
                rules.append(DEFAULT_RULES.get(name, FieldRule(name)))
        return cls(tuple(rules), max_rows)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.required]


@dataclass
class Validated:
    """The outcome of validating a batch: rows to store and rows to quarantine."""

    valid: RowBatch = field(default_factory=RowBatch.empty)
    rejected: list[Rejection] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    """``parse_iso`` for untrusted input: the time must also be one the store can read back."""
    moment = parse_iso(text)  # a ValidationError for text, or for a time before year 1 in UTC
    if not MIN_TIME_MS <= to_ms(moment) <= MAX_TIME_MS:
        raise ValidationError(f"'{str(text)[:40]}' is outside the years 1 to 9999 in UTC")
    return moment


def _raw(item: Any) -> str:
    try:
        return json.dumps(item, default=str)[:2000]
    except (TypeError, ValueError):
        return repr(item)[:2000]


def validate_items(items: Sequence[Any], schema: RowSchema, default_time: datetime,
                   row_ref: Callable[[int], str]) -> Validated:
    """Validate mapped endpoint rows (dicts); ``default_time`` stamps rows without a time."""
    out = Validated()
    valid: list[StoredRow] = []
    if len(items) > schema.max_rows:
        raise ValidationError(f"the reply has {len(items)} rows, more than the limit of "
                              f"{schema.max_rows}; lower the batch size of the request")
    default_ms = to_ms(default_time)
    for ordinal, item in enumerate(items):
        if not isinstance(item, Mapping):
            out.rejected.append(Rejection(row_ref(ordinal), f"row is a {type(item).__name__}, "
                                          "not an object of named outputs", _raw(item)))
            continue
        problems: list[tuple[str | None, str]] = []
        when = default_ms
        if item.get(TIME_FIELD) is not None:
            try:
                when = to_ms(parse_time(str(item[TIME_FIELD])))
            except ValidationError as exc:
                problems.append((TIME_FIELD, f"field '{TIME_FIELD}': {exc}"))
        values: dict[str, float] = {}
        for rule in schema.required:
            problem = rule.problem(item.get(rule.name))
            if problem:
                problems.append((rule.name, problem))
            else:
                values[rule.name] = float(item[rule.name])
        version = item.get(VERSION_FIELD)
        if version is not None and (not isinstance(version, str | int)
                                    or len(str(version)) > MAX_VERSION_LENGTH):
            problems.append((VERSION_FIELD, f"field '{VERSION_FIELD}' must be a short string"))
        if problems:
            out.rejected.append(Rejection(row_ref(ordinal), "; ".join(p for _, p in problems),
                                          _raw(item), problems[0][0]))
            continue
        valid.append(StoredRow(when, ordinal, values, None if version is None else str(version)))
    out.valid = RowBatch.from_rows(valid)
    return out


def validate_frame(frame: pd.DataFrame, schema: RowSchema, row_ref: Callable[[int], str],
                   time_column: str = TIME_FIELD, seen: dict[int, int] | None = None) -> Validated:
    """Validate a CSV-shaped frame (read with ``dtype=str``) column-wise.

    A row's ordinal is its position among all rows of the file with the same
    ``predicted_at`` (``seen`` carries the counts across chunks), so the same file
    always yields the same keys and re-importing it stores nothing twice.
    """
    import pandas as pd

    out = Validated()
    if time_column not in frame.columns:
        raise ValidationError(f"the file has no '{time_column}' column; the columns are "
                              f"{', '.join(map(str, frame.columns))}")
    n = len(frame)
    raw_times = frame[time_column].astype(str)
    times = pd.to_datetime(raw_times, errors="coerce", utc=True, format="ISO8601")
    trimmed = raw_times.str.rstrip()
    signs = ["+", "-"]
    has_clock = trimmed.str.slice(10, 11).isin(["T", "t", " "])  # a date alone has no zone
    aware = (has_clock & (trimmed.str.endswith("Z") | trimmed.str.slice(-6, -5).isin(signs)
                          | trimmed.str.slice(-5, -4).isin(signs))).to_numpy(dtype=bool)
    has_time = ~times.isna().to_numpy()
    ms = np.full(n, -1, dtype=np.int64)
    ms[has_time] = times[has_time].dt.as_unit("ms").astype("int64").to_numpy()
    readable = (ms >= MIN_TIME_MS) & (ms <= MAX_TIME_MS)
    ms[has_time & ~readable] = -1  # grouped with the unparsed times: quarantined, never keyed
    has_time &= readable
    bad = ~(has_time & aware)
    numbers: dict[str, np.ndarray] = {}
    for rule in schema.required:
        if rule.name not in frame.columns:
            raise ValidationError(f"the file has no '{rule.name}' column")
        column = pd.to_numeric(frame[rule.name], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(column)
        if rule.minimum is not None:
            ok &= column >= rule.minimum
        if rule.maximum is not None:
            ok &= column <= rule.maximum
        bad |= ~ok
        numbers[rule.name] = column
    ordinals = pd.Series(ms).groupby(ms).cumcount().to_numpy().astype(np.int64)
    if seen is not None:
        keys = pd.unique(ms[has_time])
        offsets = pd.Series([seen.get(int(k), 0) for k in keys], index=keys, dtype=np.int64)
        ordinals[has_time] += offsets.reindex(ms[has_time]).to_numpy()
        for key, count in pd.Series(ms[has_time]).value_counts().items():
            seen[int(key)] = seen.get(int(key), 0) + int(count)
    good = np.flatnonzero(~bad)
    versions: list[str | None]
    if VERSION_FIELD in frame.columns:
        raw_versions = frame[VERSION_FIELD].astype(str).to_numpy()[good]
        versions = [v[:MAX_VERSION_LENGTH] or None for v in raw_versions.tolist()]
    else:
        versions = [None] * good.size
    out.valid = RowBatch(ms[good], ordinals[good], {k: v[good] for k, v in numbers.items()}, versions)
    for i in np.flatnonzero(bad).tolist():
        out.rejected.append(_frame_rejection(frame, i, schema, raw_times.iat[i], time_column,
                                             row_ref(i)))
    return out


def _frame_rejection(frame: pd.DataFrame, i: int, schema: RowSchema, raw_time: str,
                     time_column: str, ref: str) -> Rejection:
    problems: list[tuple[str, str]] = []
    try:
        parse_time(raw_time)
    except ValidationError as exc:
        problems.append((time_column, f"field '{time_column}': {exc}"))
    for rule in schema.required:
        problem = rule.problem(_number_or_text(frame[rule.name].iat[i]))
        if problem:
            problems.append((rule.name, problem))
    raw = json.dumps({str(k): _cell(v) for k, v in frame.iloc[i].items()})
    reason = "; ".join(p for _, p in problems) or "row is invalid"
    return Rejection(ref, reason, raw, problems[0][0] if problems else None)


def _number_or_text(cell: Any) -> Any:
    """A CSV cell as the value a row object would have carried ('' is missing)."""
    import pandas as pd

    if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
        return None
    if isinstance(cell, str):
        if not cell.strip():
            return None
        try:
            return float(cell)
        except ValueError:
            return cell
    return cell


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
