"""Every invalid-row case is rejected with the field and the reason; valid rows survive."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
import pytest

from monitoring.errors import ValidationError
from monitoring.validation import FieldRule, RowSchema, validate_frame, validate_items

SCHEMA = RowSchema.for_fields(["archived_gb_predicted", "savings_gb_predicted", "confidence_interval"])
T0 = datetime(2026, 1, 5, tzinfo=UTC)
GOOD = {"archived_gb_predicted": 500.0, "savings_gb_predicted": 120.0, "confidence_interval": 0.9,
        "model_version": "v3"}


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"archived_gb_predicted": None}, "archived_gb_predicted", "is missing"),
    ({"archived_gb_predicted": -1.0}, "archived_gb_predicted", "below the minimum 0"),
    ({"savings_gb_predicted": float("nan")}, "savings_gb_predicted", "finite number"),
    ({"savings_gb_predicted": float("inf")}, "savings_gb_predicted", "finite number"),
    ({"confidence_interval": 1.5}, "confidence_interval", "above the maximum 1"),
    ({"confidence_interval": -0.1}, "confidence_interval", "below the minimum 0"),
    ({"archived_gb_predicted": "512"}, "archived_gb_predicted", "must be a number, got str"),
    ({"archived_gb_predicted": True}, "archived_gb_predicted", "must be a number, got bool"),
    ({"archived_gb_predicted": [1]}, "archived_gb_predicted", "must be a number, got list"),
    ({"predicted_at": "2026-01-05T00:00:00"}, "predicted_at", "no timezone"),
    ({"predicted_at": "yesterday"}, "predicted_at", "not an ISO 8601"),
    ({"model_version": "v" * 500}, "model_version", "short string"),
    ({"archived_gb_predicted": 10**400}, "archived_gb_predicted", "finite number"),  # JSON allows it
    ({"predicted_at": "0001-01-01T00:00:00+01:00"}, "predicted_at", "outside the years 1 to 9999"),
    ({"predicted_at": "9999-12-31T23:59:59-01:00"}, "predicted_at", "outside the years 1 to 9999"),
])
def test_invalid_items_are_rejected_with_field_and_reason(change, field, reason) -> None:
    item = {**GOOD, **change}
    if change.get(field, "") is None:
        del item[field]
    out = validate_items([GOOD, item], SCHEMA, T0, lambda i: f"slot#{i}")
    assert len(out.valid) == 1 and out.valid[0].ordinal == 0
    (rejection,) = out.rejected
    assert rejection.field == field
    assert reason in rejection.reason
    assert rejection.row_ref == "slot#1"


def test_non_object_rows_are_rejected() -> None:
    out = validate_items([GOOD, 42, "text", None], SCHEMA, T0, str)
    assert len(out.valid) == 1
    assert [r.reason.split(",")[0] for r in out.rejected] == [
        "row is a int", "row is a str", "row is a NoneType"]


def test_row_time_defaults_to_the_pull_slot_and_can_be_given() -> None:
    out = validate_items([GOOD, {**GOOD, "predicted_at": "2026-01-04T23:00:00+01:00"}], SCHEMA, T0, str)
    assert [r.predicted_at for r in out.valid] == [int(T0.timestamp() * 1000),
                                                   int(T0.timestamp() * 1000) - 7_200_000]


def test_every_problem_of_a_row_is_named() -> None:
    out = validate_items([{"archived_gb_predicted": -5, "confidence_interval": 9}], SCHEMA, T0, str)
    reason = out.rejected[0].reason
    assert "archived_gb_predicted" in reason and "savings_gb_predicted" in reason
    assert "confidence_interval" in reason


def test_too_many_rows_is_a_clear_error() -> None:
    small = RowSchema(SCHEMA.required, max_rows=3)
    with pytest.raises(ValidationError, match="more than the limit of 3"):
        validate_items([GOOD] * 4, small, T0, str)


def test_naive_time_is_refused_for_the_default() -> None:
    with pytest.raises(ValidationError, match="no timezone"):
        validate_items([GOOD], SCHEMA, datetime(2026, 1, 5), str)


def test_frame_validation_matches_item_validation() -> None:
    text = ("predicted_at,archived_gb_predicted,savings_gb_predicted,confidence_interval\n"
            "2026-01-05T00:00:00Z,500,120,0.9\n"
            "2026-01-05T00:00:00Z,-1,120,0.9\n"
            "2026-01-05T00:00:00,500,120,0.9\n"
            "2026-01-05T00:00:00Z,NaN,abc,0.9\n"
            "2026-01-05T00:00:00Z,,120,0.9\n"
            "2026-01-05T00:00:00Z,500,120,1.2\n"
            "2026-01-05,500,120,0.5\n"
            "2026-01-05T01:00:00+00:00,501,121,0.8\n")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    out = validate_frame(frame, SCHEMA, lambda i: f"line {i + 2}")
    assert [(r.predicted_at, r.ordinal) for r in out.valid] == [(1767571200000, 0),
                                                                (1767574800000, 0)]
    reasons = {r.row_ref: r.reason for r in out.rejected}
    assert "below the minimum" in reasons["line 3"]
    assert "no timezone" in reasons["line 4"]
    assert "finite" in reasons["line 5"] and "got str" in reasons["line 5"]
    assert "is missing" in reasons["line 6"]
    assert "above the maximum" in reasons["line 7"]
    assert "no timezone" in reasons["line 8"]


def test_frame_without_required_column_is_one_clear_error() -> None:
    frame = pd.DataFrame({"predicted_at": ["2026-01-05T00:00:00Z"], "archived_gb_predicted": ["1"]})
    with pytest.raises(ValidationError, match="no 'savings_gb_predicted' column"):
        validate_frame(frame, SCHEMA, str)


def test_frame_row_with_a_time_outside_utc_is_quarantined_not_raised() -> None:
    text = ("predicted_at,archived_gb_predicted,savings_gb_predicted,confidence_interval\n"
            "0001-01-01T00:00:00+01:00,500,120,0.9\n"
            "2026-01-05T00:00:00Z,500,120,0.9\n")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    out = validate_frame(frame, SCHEMA, lambda i: f"line {i + 2}")
    assert len(out.valid) == 1
    (rejection,) = out.rejected
    assert rejection.row_ref == "line 2" and rejection.field == "predicted_at"
    assert "outside the years 1 to 9999" in rejection.reason


def test_field_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a valid field name"):
        FieldRule("archived_gb_predicted\n")


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-02:00"])
def test_parse_iso_turns_a_time_outside_utc_years_into_a_validation_error(text: str) -> None:
    """The baseline CLI and the drift page parse operator input with it too."""
    from monitoring.timeutil import parse_iso

    with pytest.raises(ValidationError, match="outside the years 1 to 9999"):
        parse_iso(text)
