"""Turn whatever a scoring script returned into rows named by monitored field.

Scoring scripts return many shapes: a list of row objects, one object,
``{"predictions": [...]}`` (MLflow) or a similar envelope, columns
``{"field": [...], ...}``, and often all of that once more inside a JSON string
(``run()`` returning ``json.dumps(...)``). This module finds the rows and renames their
fields through the mapping. It does not judge values: NaN, Infinity, wrong types and
missing fields pass through for validation to reject with a reason. Items that are not
objects cannot be rows and come back as rejected with a reason; only a reply that is
not JSON at all (or unusable as a whole) raises ``MalformedResponseError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ml_client.errors import MalformedResponseError, snippet_of
from ml_client.settings import DEFAULT_FIELD_MAPPING

#: Keys whose value holds the rows, tried in this order.
ENVELOPE_KEYS = ("predictions", "outputs", "result", "results", "data")
#: How many string wrappings and envelopes we unwrap before calling the reply malformed.
MAX_NESTING = 6

HINT = ("make the scoring script's run() return JSON such as "
        '[{"archived_gb_predicted": 1.0, ...}] or {"predictions": [...]}')


class RejectedItem(NamedTuple):
    """An item of the reply that cannot be a row: the raw item and why."""

    raw: Any
    reason: str


@dataclass(frozen=True)
class Mapped:
    """Rows keyed by monitored field name, and the items that could not be rows."""

    rows: list[dict[str, Any]]
    rejected: list[RejectedItem]


def parse_json(body: bytes | str) -> Any:
    """The JSON value of a reply; NaN and Infinity stay floats. Raises MalformedResponseError."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int too long
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise MalformedResponseError(f"the endpoint's reply is not JSON ({detail}); {HINT}",
                                     snippet=snippet_of(body)) from exc


def map_response(body: bytes | str, mapping: Mapping[str, str] = DEFAULT_FIELD_MAPPING) -> Mapped:
    """Parse a reply body and map it; see the module docstring for the shapes understood."""
    return map_payload(parse_json(body), mapping, snippet=snippet_of(body))


def map_payload(payload: Any, mapping: Mapping[str, str] = DEFAULT_FIELD_MAPPING,
                snippet: str = "") -> Mapped:
    """Map an already parsed reply."""
    items, defaults = _locate(payload, mapping, 0, snippet)
    return map_items(items, mapping, defaults)


def map_items(items: list[Any], mapping: Mapping[str, str],
              defaults: Mapping[str, Any] | None = None) -> Mapped:
    """Rename each object's mapped keys (others are dropped); reject items that are not objects.

    ``defaults`` (already in monitored names) fill fields a row lacks, e.g. a
    ``model_version`` sent once beside the predictions.
    """
    pairs = tuple(mapping.items())
    rows: list[dict[str, Any]] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            row = {target: item[source] for source, target in pairs if source in item}
            if defaults:
                for name, value in defaults.items():
                    row.setdefault(name, value)
            rows.append(row)
        else:
            rejected.append(RejectedItem(item, f"item {index} of the reply is {_kind(item)}, not an "
                                               "object of named outputs"))
    return Mapped(rows, rejected)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _unwrap_string(text: str, depth: int) -> Any:
    """The JSON inside a JSON string (``json.dumps`` in run()), possibly wrapped again."""
    value: Any = text
    while isinstance(value, str):
        if depth >= MAX_NESTING:
            raise ValueError("too deeply wrapped")
        value = json.loads(value)
        depth += 1
    return value


def _locate(value: Any, mapping: Mapping[str, str], depth: int,
            snippet: str) -> tuple[list[Any], dict[str, Any]]:
    """The items of a reply and the envelope-level defaults for them."""
    if depth > MAX_NESTING:
        raise MalformedResponseError(f"the endpoint's reply nests its rows more than {MAX_NESTING} "
                                     f"levels deep; {HINT}", snippet=snippet)
    if isinstance(value, str):
        try:
            inner = _unwrap_string(value, depth)
        except (ValueError, RecursionError) as exc:
            raise MalformedResponseError(f"the endpoint's reply is a JSON string that does not hold "
                                         f"JSON rows; {HINT}", snippet=snippet) from exc
        return _locate(inner, mapping, depth + 1, snippet)
    if isinstance(value, list):
        return value, {}
    if not isinstance(value, dict):
        return [value], {}
    for key in ENVELOPE_KEYS:
        inner = _container(value.get(key), depth)
        if inner is not None:
            items, defaults = _locate(inner, mapping, depth + 1, snippet)
            outer = {mapping[k]: v for k, v in value.items()
                     if k in mapping and k != key and not isinstance(v, list | dict)}
            return items, {**outer, **defaults}
    columns = _columns(value, snippet)
    return (columns, {}) if columns is not None else ([value], {})


def _container(value: Any, depth: int) -> list[Any] | dict[str, Any] | None:
    """``value`` if it holds rows (a list or object, or a JSON string of one), else None."""
    if isinstance(value, list | dict):
        return value
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{", '"'):
        try:
            inner = _unwrap_string(value, depth)
        except (ValueError, RecursionError):
            return None
        return inner if isinstance(inner, list | dict) else None
    return None


def _columns(value: dict[str, Any], snippet: str) -> list[dict[str, Any]] | None:
    """Rows from ``{field: [v0, v1, ...], ...}``; None when ``value`` is not columnar."""
    if not value or not all(isinstance(column, list) for column in value.values()):
        return None
    lengths = {name: len(column) for name, column in value.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={n}" for name, n in list(lengths.items())[:6])
        raise MalformedResponseError(f"the endpoint's reply has columns of different lengths ({shown}); "
                                     "each output column needs one value per row", snippet=snippet)
    names = list(value)
    return [dict(zip(names, cells, strict=True)) for cells in zip(*value.values(), strict=True)]
