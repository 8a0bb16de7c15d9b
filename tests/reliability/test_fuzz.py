"""Bad input fuzzing: only documented errors escape, and nothing invalid is stored.

Targets: the response mapper, row validation, CSV import, the settings validators and
``Settings.update`` through the real store, and the replay reader followed by ``replay()``.
"Documented errors" are the tree in ``monitoring/errors.py``; each test names the ones
its target may raise. Every test is derandomized (a fixed seed per test and no example
database), so CI runs the same examples every time; deadlines are off because SQLCipher
I/O makes timing vary.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import monitoring.replay
from ml_client.errors import MalformedResponseError
from ml_client.mapping import ENVELOPE_KEYS, map_response
from ml_client.settings import DEFAULT_FIELD_MAPPING
from monitoring.actors import ADMIN, ANALYST, Actor
from monitoring.context import Monitor
from monitoring.errors import PermissionDeniedError, ValidationError
from monitoring.importer import import_csv
from monitoring.replay import read_pulls, replay
from monitoring.settings import SPEC_BY_KEY, SPECS, Spec, coerce
from monitoring.store import Audit
from monitoring.store import Settings as StoredSettings
from monitoring.store.predictions import SOURCES, Predictions
from monitoring.timeutil import from_ms
from monitoring.validation import DEFAULT_RULES, MAX_VERSION_LENGTH, FieldRule, RowSchema, validate_items

FIELDS = ["archived_gb_predicted", "savings_gb_predicted", "confidence_interval"]
SCHEMA = RowSchema.for_fields(FIELDS)
T0 = datetime(2026, 1, 5, tzinfo=UTC)
# Independent of monitoring.validation.FIELD_NAME on purpose: a full match, no trailing newline.
VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def fuzz(examples: int) -> settings:
    """Same examples on every run (CI), no deadline (SQLCipher I/O timing varies)."""
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a strategy with the given weights (st.one_of weighs its branches alike)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


# -- values ------------------------------------------------------------------------------------
NASTY_NUMBERS = [10**400, -(10**400), 2**1024, 2**63, -(2**63) - 1, 1e308, -1e308, -0.0, 5e-324,
                 math.nan, math.inf, -math.inf]
# Times that parse but do not fit in UTC, or sit at pandas' bounds, or carry no zone.
EDGE_TIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
              "9999-12-31T23:59:59Z", "1677-09-21T00:12:43Z", "2262-04-11T23:47:17Z", "2026-01-05",
              "2026-01-05T00:00:00"]
NASTY_TIMES = ["2026-01-05T00:00:00Z", "2026-01-05T02:00:00+05:30", *EDGE_TIMES, "Z", " "]
# URLs that urlsplit refuses (ValueError), or that must be refused as webhooks/links.
NASTY_URLS = ["http://[", "https://[::1", "https://ho]st/x", "https://example.com:99999/hook",
              "https://user:pw@example.com/hook", "http://example.com/hook", "ftp://example.com",
              "https://", "https://hooks.example.com/a b", "http://127.0.0.1/x", "http://localhost:8080/h"]
NASTY_TEXT = ["", "NaN", "nan", "inf", "-Infinity", "1e309", "-1e309", "1_000", "0x10", "\u0661\u0662",
              "60", " 60 ", "6e1", "60.5", "0.5", "-1", "true", "False", "yes", "\x00", "abc\n", "a,b",
              "warning", "https://hooks.example.com/services/abcdef012345", "x" * 2001, *NASTY_URLS,
              *NASTY_TIMES]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                         st.integers(min_value=-(2**1100), max_value=2**1100),
                         st.sampled_from(NASTY_NUMBERS), st.sampled_from(NASTY_TEXT), st.text(max_size=8),
                         st.floats(allow_nan=True, allow_infinity=True))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
row_like = st.dictionaries(st.sampled_from([*FIELDS, "model_version", "predicted_at", "x"]),
                           st.one_of(json_values, st.sampled_from(NASTY_TIMES)), max_size=6)
good_time = st.integers(0, 60 * 24 * 365).map(
    lambda m: (T0 + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"))
good_row = st.fixed_dictionaries(
    {"archived_gb_predicted": st.floats(0, 1e9), "savings_gb_predicted": st.floats(0, 1e9),
     "confidence_interval": st.one_of(st.floats(0, 1), st.integers(0, 1))},
    optional={"model_version": st.one_of(st.text(max_size=8), st.integers(), st.just("v" * 129)),
              "predicted_at": st.one_of(good_time, st.sampled_from(NASTY_TIMES)), "x": json_scalars})
spoiled_row = st.tuples(good_row, st.sampled_from([*FIELDS, "model_version", "predicted_at"]),
                        json_scalars).map(lambda t: {**t[0], t[1]: t[2]})  # one bad part
any_row = weighted((2, good_row), (2, spoiled_row), (2, row_like), (1, json_values))


def _rule(name: str) -> FieldRule:
    return DEFAULT_RULES.get(name, FieldRule(name))


def _value_ok(name: str, value: Any) -> bool:
    """The validation rules, restated: a finite float within the field's default range."""
    if isinstance(value, bool) or not isinstance(value, float | int):
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    rule = _rule(name)
    return (math.isfinite(number) and (rule.minimum is None or number >= rule.minimum)
            and (rule.maximum is None or number <= rule.maximum))


def _assert_valid(batch) -> None:
    for row in batch:
        assert isinstance(row.predicted_at, int)
        from_ms(row.predicted_at)  # pages and detection turn it back into a datetime
        version = row.model_version
        assert version is None or (isinstance(version, str) and len(version) <= MAX_VERSION_LENGTH)
        for name, value in row.values.items():
            assert _value_ok(name, value), (name, value)


# -- rows and replies --------------------------------------------------------------------------
@fuzz(150)
@given(st.lists(any_row, max_size=20))
def test_row_validation_never_raises_and_never_passes_a_bad_row(items) -> None:
    out = validate_items(items, SCHEMA, T0, str)
    event(f"valid rows: {min(len(out.valid), 1)}, rejected: {min(len(out.rejected), 1)}")
    assert len(out.valid) + len(out.rejected) == len(items)
    _assert_valid(out.valid)
    assert all(r.reason for r in out.rejected)


rows_payload = st.lists(weighted((3, any_row), (1, json_scalars)), min_size=1, max_size=5)
envelope = st.builds(lambda key, rows, extra: {**extra, key: rows}, st.sampled_from(ENVELOPE_KEYS),
                     st.one_of(rows_payload, rows_payload.map(json.dumps)),
                     st.dictionaries(st.sampled_from([*FIELDS, "model_version", "x"]), json_scalars,
                                     max_size=2))
columnar = st.integers(0, 3).flatmap(lambda n: st.dictionaries(
    st.sampled_from([*FIELDS, "model_version"]),
    st.lists(st.one_of(st.floats(0, 1), json_scalars), min_size=n, max_size=n + (n == 3)),
    min_size=1, max_size=4))
payloads = weighted((2, rows_payload), (2, envelope), (1, columnar), (1, json_values))
bodies = weighted(
    (3, payloads.map(json.dumps).map(str.encode)),
    (1, st.binary(max_size=300)),
    (2, payloads.map(json.dumps).map(json.dumps).map(str.encode)),  # run() returned json.dumps(...)
    (1, st.tuples(st.binary(min_size=1, max_size=4), payloads.map(json.dumps)).map(
        lambda pair: pair[0] + pair[1].encode())),
    (1, payloads.map(lambda p: json.dumps(p).encode("utf-16"))),
)


@fuzz(200)
@given(bodies)
def test_response_mapping_raises_only_malformed_response(body) -> None:
    try:
        mapped = map_response(body, DEFAULT_FIELD_MAPPING)
    except MalformedResponseError as exc:
        assert str(exc)
        return
    assert all(reason for _, reason in mapped.rejected)
    out = validate_items(mapped.rows, SCHEMA, T0, str)
    event(f"mapped; valid rows: {min(len(out.valid), 1)}")
    assert len(out.valid) + len(out.rejected) == len(mapped.rows)
    _assert_valid(out.valid)
    assert all(r.reason for r in out.rejected)


# -- CSV files -----------------------------------------------------------------------------------
GOOD_HEADER = ["predicted_at", "archived_gb_predicted", "confidence_interval", "model_version"]
# Random names come from a tiny alphabet, so the shared store never runs out of value slots.
header_name = st.one_of(
    st.sampled_from([*GOOD_HEADER, "savings_gb_predicted", "extra_1", " archived_gb_predicted ", "bad-name",
                     "1abc", "", "\u00e9", '"q,uoted"', "predicted_at\x00", "\ufeffpredicted_at"]),
    st.text(alphabet="ab-\u00e9 \"\x00", max_size=2))
csv_cell = weighted(
    (8, st.one_of(st.floats(0, 1).map("{:.6g}".format), st.integers(0, 1).map(str))),  # valid
    (3, st.sampled_from(["", "NaN", "nan", "inf", "-inf", "-1", "0", "-0", "1e309", "-1e309", "1" * 400,
                         "abc", "12.5", "1.0000001", "0x1p-2", "1_0", "\u0661\u0662", " 3", "3 ", "TRUE",
                         '"q,uoted"', "\x00", "\u00e9", "v" * 200, *NASTY_TIMES])),
    (1, st.text(max_size=6)),
    (1, st.text(alphabet="0123456789.-eE:TZ+ ,\"\n\r\x00", max_size=12)))  # breaks the row structure
time_cell = weighted((3, good_time), (1, st.sampled_from(NASTY_TIMES)), (1, st.sampled_from(EDGE_TIMES)))


@st.composite
def csv_files(draw: st.DrawFn, max_rows: int = 10, min_rows: int = 0, clean: int = 6) -> bytes:
    """A CSV as bytes: good or random header, messy cells, any line ending, damaged encodings.

    ``clean`` weighs a good header and undamaged bytes against one random header or damage.
    """
    header = draw(weighted((clean, st.just(GOOD_HEADER)), (1, st.just(GOOD_HEADER[:2])),
                           (2, st.lists(header_name, max_size=5)), (1, st.none())))
    width = len(header) if header else 3
    row = weighted((4, st.tuples(time_cell, st.lists(csv_cell, min_size=width - 1, max_size=width - 1))
                       .map(lambda r: [r[0], *r[1]])),
                   (1, st.lists(csv_cell, max_size=width + 1)))
    rows = draw(st.lists(row, min_size=min_rows, max_size=max_rows))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = ([",".join(header)] if header is not None else []) + [",".join(r) for r in rows]
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    data = text.encode("utf-8", errors="surrogatepass")
    damages = st.sampled_from(["bom", "latin-1", "utf-16", "splice", "nul"])
    damage = draw(weighted((clean, st.just("none")), (1, damages)))
    if damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "latin-1":
        data = text.encode("latin-1", errors="replace") + "\u00e9".encode("latin-1")
    elif damage == "utf-16":
        data = text.encode("utf-16", errors="surrogatepass")
    elif damage in ("splice", "nul"):
        at = draw(st.integers(0, len(data)))
        junk = draw(st.binary(min_size=1, max_size=8)) if damage == "splice" else b"\x00"
        data = data[:at] + junk + data[at:]
    return data


def _table_counts(monitor: Monitor) -> tuple[int, int, int]:
    with monitor.store.read() as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
                     for t in ("predictions", "rejected_rows", "pulls"))


def _assert_store_valid(monitor: Monitor) -> None:
    """Every stored value is finite and within its field's range; every quarantined row has a reason."""
    with monitor.store.read() as conn:
        predictions = Predictions(conn)
        fields = predictions.fields()
        for row in predictions.rows(-(2**62), 2**62, SOURCES):
            assert isinstance(row["predicted_at"], int)
            from_ms(row["predicted_at"])  # pages and detection turn it back into a datetime
            version = row["model_version"]
            assert version is None or (isinstance(version, str) and len(version) <= MAX_VERSION_LENGTH)
            for name in fields:
                assert row[name] is None or _value_ok(name, row[name]), (name, row[name])
        assert all(VALID_NAME.fullmatch(name) for name in fields)
        reasons = [r for (r,) in conn.execute("SELECT reason FROM rejected_rows")]
        assert all(isinstance(r, str) and r.strip() for r in reasons)


@fuzz(120)
@given(csv_files())
@example(b"predicted_at," + b"a" * 200_000 + b"\n")  # over the csv module's field size limit
@example(b"\xef\xbb\xbfpredicted_at,archived_gb_predicted\r\n2026-01-05T00:00:00Z,1\r\n")  # Excel
def test_csv_import_raises_only_validation_errors_and_stores_only_valid_rows(monitor, data) -> None:
    before = _table_counts(monitor)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        try:
            result = import_csv(monitor, path)
        except ValidationError as exc:
            event("import refused")
            assert str(exc)
            assert _table_counts(monitor) == before  # all or nothing
        else:
            event(f"imported (stored {min(result.stored, 1)}, rejected {min(result.rejected, 1)})")
            predictions, rejected, pulls = _table_counts(monitor)
            assert predictions - before[0] == result.stored
            assert rejected - before[1] == result.rejected
            assert pulls - before[2] == 1
            assert result.stored + result.rejected <= result.rows_read
    _assert_store_valid(monitor)


# -- replay --------------------------------------------------------------------------------------
@contextmanager
def _inspect_replay_store(found: dict[str, Any]) -> Iterator[None]:
    """Let replay() run untouched, but look into its throwaway store just before it is closed."""
    real_open = monitoring.replay.open_monitor

    def opening(*args: Any, **kwargs: Any) -> Monitor:
        opened = real_open(*args, **kwargs)
        real_close = opened.close

        def inspect_then_close() -> None:
            try:
                _assert_store_valid(opened)
                found["counts"] = _table_counts(opened)
            finally:
                real_close()

        opened.close = inspect_then_close  # type: ignore[method-assign]
        return opened

    with mock.patch.object(monitoring.replay, "open_monitor", opening):
        yield


def _row_ok(row: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """The oracle for a replayed row: would validation store it?"""
    version = row.get("model_version")
    return ("predicted_at" not in row  # only rows whose time did not parse carry it
            and all(_value_ok(name, row.get(name)) for name in fields)
            and (version is None or (isinstance(version, str | int)
                                     and len(str(version)) <= MAX_VERSION_LENGTH)))


@fuzz(60)
@given(csv_files(max_rows=6, min_rows=1, clean=20))
def test_replay_stores_only_valid_rows_and_quarantines_the_rest_with_a_reason(data) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.csv"
        path.write_bytes(data)
        try:
            pulls, fields = read_pulls(path)
        except ValidationError as exc:
            event("unreadable")
            assert str(exc)
            return
        rows = [row for group in pulls.values() for row in group]
        good = sum(_row_ok(row, fields) for row in rows)
        found: dict[str, Any] = {}
        with _inspect_replay_store(found):
            try:
                result = replay(pulls, fields, workdir=Path(tmp))
            except ValidationError as exc:  # e.g. a file whose only column is predicted_at
                assert "Monitored fields" in str(exc) and not fields
                return
    event(f"replayed (good rows {min(good, 1)}, bad rows {min(len(rows) - good, 1)})")
    assert result.pulls == len(pulls)
    assert (result.rows_stored, result.rows_rejected) == (good, len(rows) - good)
    stored, quarantined, recorded_pulls = found["counts"]
    assert (stored, quarantined, recorded_pulls) == (good, len(rows) - good, len(pulls))


# -- settings ------------------------------------------------------------------------------------
numeric_text = st.one_of(st.integers(-(10**6), 10**6).map(str), st.floats().map(repr),
                         st.floats(0, 2000).map(lambda f: f"{f:.3g}"), st.sampled_from(NASTY_TEXT))
numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(), st.sampled_from(NASTY_NUMBERS))
good_names = st.sampled_from([*FIELDS, "extra_1", "_", "x" * 64])
newline_names = good_names.map(lambda n: n + "\n")  # '$' in a regex would let these through
near_names = st.sampled_from(["abc\n", "x" * 65, "\u00e9", "a b", "1x", ""])
names = st.one_of(good_names, near_names, st.text(max_size=4))
bound = st.one_of(st.none(), numbers, numeric_text)
good_bound = st.one_of(st.none(), st.floats(-1e6, 1e6), st.integers(-100, 100).map(str))


def _plausible(spec: Spec) -> st.SearchStrategy[Any]:
    """Values a settings form would send, mostly valid, so that updates do get stored."""
    if spec.kind in ("int", "float"):
        inside = (st.integers(int(spec.low), int(spec.high)) if spec.kind == "int"
                  else st.floats(spec.low, spec.high))
        return st.one_of(inside, inside.map(str), inside.map(lambda v: f" {v!r} "))
    return {
        "bool": st.sampled_from([True, False, "true", "FALSE", "1", "0", "yes", "No"]),
        "choice": st.sampled_from(spec.choices),
        "str": st.sampled_from(["", " blue ", "green-2", "https://monitor.example.com"]),
        "secret": st.sampled_from(["", "https://hooks.example.com/services/abcdef012345 ",
                                   "http://localhost:8080/hook"]),
        "fields": st.one_of(st.lists(good_names, min_size=1, max_size=3),
                            st.lists(good_names, min_size=1, max_size=3).map(", ".join)),
        "mapping": st.dictionaries(st.text(min_size=1, max_size=6), good_names, max_size=3),
        "ranges": st.dictionaries(good_names, st.tuples(good_bound, good_bound).map(
            lambda b: {"min": b[0], "max": b[1]}), max_size=3),
        "thresholds": st.dictionaries(st.text(max_size=6), st.one_of(st.floats(1e-6, 1e6), st.just("2.5")),
                                      max_size=3),
    }[spec.kind]


def _hostile(spec: Spec) -> st.SearchStrategy[Any]:
    """Values of roughly the right shape but with bad parts: NaN, inf, huge, wrong types, bad names."""
    return {
        "int": st.one_of(numbers, numeric_text, st.integers(int(spec.low or 0) - 2, int(spec.high or 0) + 2)),
        "float": st.one_of(numbers, numeric_text),
        "bool": st.sampled_from(["on", "", 1, 0, None, "2"]),
        "choice": st.sampled_from(["WARNING", "", None, ["warning"]]),
        "str": weighted((1, st.sampled_from(NASTY_URLS)), (1, st.sampled_from(NASTY_TEXT))),
        "secret": weighted((1, st.sampled_from(NASTY_URLS)), (1, st.sampled_from(NASTY_TEXT))),
        "fields": weighted((2, st.lists(st.one_of(good_names, newline_names), min_size=1, max_size=2)),
                           (1, st.lists(names, max_size=4)), (1, st.lists(names, max_size=3).map(",".join))),
        "mapping": st.dictionaries(st.one_of(st.text(max_size=4), st.just("x" * 129)),
                                   st.one_of(names, newline_names), max_size=3),
        "ranges": st.dictionaries(st.one_of(names, newline_names),
                                  st.one_of(st.fixed_dictionaries({"min": bound, "max": bound}),
                                            st.dictionaries(st.sampled_from(["min", "max", "lo"]), bound,
                                                            max_size=3)), max_size=3),
        "thresholds": st.dictionaries(st.text(max_size=6), st.one_of(numbers, numeric_text), max_size=3),
    }[spec.kind]


def _values_for(spec: Spec) -> st.SearchStrategy[Any]:
    return weighted((3, _plausible(spec)), (3, _hostile(spec)), (1, json_values))


setting_change = weighted(
    (6, st.sampled_from(SPECS).flatmap(lambda spec: st.tuples(st.just(spec.key), _values_for(spec)))),
    (1, st.tuples(st.text(max_size=8), json_values)))
setting_changes = st.lists(setting_change, max_size=3).map(dict)
roles = weighted((5, st.just(ADMIN)), (1, st.just(ANALYST)))


def _assert_setting_valid(spec: Spec, value: Any) -> None:
    """The setting's rules restated, independently of the validators under test."""
    kind = spec.kind
    if kind in ("int", "float"):
        assert not isinstance(value, bool) and isinstance(value, int if kind == "int" else int | float)
        assert math.isfinite(value) and spec.low <= value <= spec.high
    elif kind == "bool":
        assert isinstance(value, bool)
    elif kind in ("str", "secret"):
        assert isinstance(value, str) and len(value) <= 2000 and value == value.strip()
    elif kind == "choice":
        assert value in spec.choices
    elif kind == "fields":
        assert isinstance(value, list) and value and len(set(value)) == len(value)
        assert all(isinstance(n, str) and VALID_NAME.fullmatch(n) for n in value)
    elif kind == "mapping":
        assert all(isinstance(k, str) and 0 < len(k) <= 128 and isinstance(v, str)
                   and VALID_NAME.fullmatch(v) for k, v in value.items())
    elif kind == "ranges":
        for name, bounds in value.items():
            assert VALID_NAME.fullmatch(name) and set(bounds) == {"min", "max"}
            assert all(b is None or (isinstance(b, float) and math.isfinite(b)) for b in bounds.values())
            assert bounds["min"] is None or bounds["max"] is None or bounds["min"] <= bounds["max"]
    elif kind == "thresholds":
        assert all(isinstance(k, str) and isinstance(v, float) and math.isfinite(v) and v > 0
                   for k, v in value.items())
    else:  # a new kind needs its rule here
        pytest.fail(f"no independent rule for kind {kind}")


def _stored_settings(monitor: Monitor) -> dict[str, Any]:
    with monitor.store.read() as conn:
        return StoredSettings(conn).all()


def _audit_count(monitor: Monitor) -> int:
    with monitor.store.read() as conn:
        return len(Audit(conn).recent(limit=1_000_000, action_prefix="settings."))


@fuzz(150)
@given(roles, setting_changes)
def test_settings_update_raises_only_documented_errors_and_stores_only_valid_values(
        monitor, role, changes) -> None:
    before, audited = _stored_settings(monitor), _audit_count(monitor)
    try:
        changed = monitor.settings.update(Actor("fuzzer", role), changes)
    except PermissionDeniedError:
        event("denied")
        assert role != ADMIN
        assert (_stored_settings(monitor), _audit_count(monitor)) == (before, audited)
    except ValidationError as exc:
        event("refused")
        assert str(exc)
        assert (_stored_settings(monitor), _audit_count(monitor)) == (before, audited)  # all or nothing
    else:
        event(f"applied ({min(len(changed), 1)} changed)")
        assert role == ADMIN
        assert _audit_count(monitor) == audited + len(changed)
        assert set(changed) <= set(changes)
        stored = _stored_settings(monitor)
        for key in changed:
            assert stored[key] == coerce(SPEC_BY_KEY[key], changes[key])
    stored = _stored_settings(monitor)
    for key, value in stored.items():  # raw rows: effective() would hide a bad one
        spec = SPEC_BY_KEY[key]
        assert coerce(spec, value) == value  # valid, and already canonical
        _assert_setting_valid(spec, value)
    for key, value in monitor.settings.effective().items():
        spec = SPEC_BY_KEY[key]
        assert coerce(spec, value) == value
        _assert_setting_valid(spec, value)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_settings_validators_raise_only_validation_errors(spec) -> None:
    @fuzz(60)
    @given(st.one_of(json_values, _values_for(spec)))
    def check(value) -> None:
        try:
            clean = coerce(spec, value)
        except ValidationError as exc:
            assert spec.label in str(exc)
            return
        assert coerce(spec, clean) == clean  # an accepted value is canonical and still valid
        _assert_setting_valid(spec, clean)
        json.loads(json.dumps(clean, allow_nan=False))  # storable as strict JSON

    check()
