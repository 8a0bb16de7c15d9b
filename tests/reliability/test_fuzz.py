"""Bad input fuzzing: only documented errors escape, and nothing invalid is stored."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ml_client.errors import MalformedResponseError
from ml_client.mapping import map_response
from ml_client.settings import DEFAULT_FIELD_MAPPING
from monitoring.errors import ValidationError
from monitoring.importer import import_csv
from monitoring.replay import read_pulls
from monitoring.settings import SPECS, coerce
from monitoring.store import Predictions
from monitoring.validation import DEFAULT_RULES, RowSchema, validate_items

FIELDS = ["archived_gb_predicted", "savings_gb_predicted", "confidence_interval"]
SCHEMA = RowSchema.for_fields(FIELDS)
T0 = datetime(2026, 1, 5, tzinfo=UTC)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                         st.floats(allow_nan=True, allow_infinity=True))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
row_like = st.dictionaries(st.sampled_from([*FIELDS, "model_version", "predicted_at", "x"]),
                           json_values, max_size=6)


def _assert_valid(batch) -> None:
    for row in batch:
        for name, value in row.values.items():
            rule = DEFAULT_RULES[name]
            assert math.isfinite(value)
            assert rule.minimum is None or value >= rule.minimum
            assert rule.maximum is None or value <= rule.maximum


@FAST
@given(st.lists(st.one_of(row_like, json_values), max_size=20))
def test_row_validation_never_raises_and_never_passes_a_bad_row(items) -> None:
    out = validate_items(items, SCHEMA, T0, str)
    assert len(out.valid) + len(out.rejected) == len(items)
    _assert_valid(out.valid)
    assert all(r.reason for r in out.rejected)


@FAST
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: __import__("json").dumps(v))
                 .map(str.encode)))
def test_response_mapping_raises_only_malformed_response(body) -> None:
    try:
        mapped = map_response(body, DEFAULT_FIELD_MAPPING)
    except MalformedResponseError:
        return
    out = validate_items(mapped.rows, SCHEMA, T0, str)
    _assert_valid(out.valid)


csv_cell = st.one_of(st.sampled_from(["", "NaN", "inf", "-1", "0", "1e309", "abc", "12.5", "0.5",
                                      "2026-01-05T00:00:00Z", "2026-01-05", "\"q,uoted\""]),
                     st.text(alphabet="0123456789.-eE:TZ+ ,\"\n", max_size=12))
csv_row = st.lists(csv_cell, min_size=0, max_size=4).map(lambda cells: ",".join(cells))


@FAST
@given(st.lists(csv_row, max_size=12), st.booleans())
def test_csv_import_raises_only_validation_errors_and_stores_only_valid_rows(monitor, lines, header) -> None:
    text = ("predicted_at,archived_gb_predicted,confidence_interval\n" if header else "") + "\n".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_text(text)
        try:
            import_csv(monitor, path)
        except ValidationError:
            pass
        try:
            pulls, fields = read_pulls(path)
        except ValidationError:
            pulls = {}
        for rows in pulls.values():
            assert all(isinstance(r, dict) for r in rows)
    with monitor.store.read() as conn:
        for field in Predictions(conn).fields():
            _, values = Predictions(conn).values(field, 0, 2**62, ["import"])
            assert all(math.isfinite(v) for v in values)
            if field in DEFAULT_RULES:
                rule = DEFAULT_RULES[field]
                assert rule.minimum is None or (values >= rule.minimum).all()
                assert rule.maximum is None or (values <= rule.maximum).all()


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_settings_validators_raise_only_validation_errors(spec) -> None:
    @settings(max_examples=60, deadline=None)
    @given(json_values)
    def check(value) -> None:
        try:
            clean = coerce(spec, value)
        except ValidationError as exc:
            assert spec.label in str(exc)
            return
        assert coerce(spec, clean) == clean  # an accepted value is canonical and still valid
        if spec.kind in ("int", "float"):
            assert spec.low <= clean <= spec.high

    check()
