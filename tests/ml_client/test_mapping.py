"""Response mapping: shapes, renaming, pass-through of bad values, rejection, speed, properties."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_client.errors import MalformedResponseError
from ml_client.mapping import map_items, map_payload, map_response

ROW = {"archived_gb_predicted": 512.5, "savings_gb_predicted": 120.0, "confidence_interval": 0.9,
       "model_version": "3"}


@pytest.mark.parametrize("payload", [
    [ROW],
    ROW,
    {"predictions": [ROW]},
    {"outputs": [ROW]},
    {"result": [ROW]},
    {"results": [ROW]},
    {"data": [ROW]},
    {"predictions": {name: [value] for name, value in ROW.items()}},
    {name: [value] for name, value in ROW.items()},
    {"result": json.dumps([ROW])},
    json.dumps([ROW]),
    json.dumps(json.dumps({"predictions": [ROW]})),
])
def test_shapes_yield_the_same_row(payload):
    body = json.dumps(payload)
    assert map_response(body).rows == [ROW]
    assert map_response(body.encode()).rows == [ROW]


def test_fields_are_renamed_extra_keys_dropped_and_missing_left_missing():
    mapping = {"archived": "archived_gb_predicted", "version": "model_version"}
    mapped = map_payload([{"archived": 1.5, "version": "v2", "noise": 0}, {"noise": 1}], mapping)
    assert mapped.rows == [{"archived_gb_predicted": 1.5, "model_version": "v2"}, {}]


def test_envelope_scalars_fill_rows_that_lack_them():
    payload = {"predictions": [{"archived_gb_predicted": 1.0}, {"model_version": "own"}],
               "model_version": "7", "status": "ok"}
    assert map_payload(payload).rows == [{"archived_gb_predicted": 1.0, "model_version": "7"},
                                         {"model_version": "own"}]


def test_nan_infinity_and_wrong_types_pass_through_untouched():
    body = ('[{"archived_gb_predicted": NaN, "savings_gb_predicted": -Infinity,'
            ' "confidence_interval": "0.9", "model_version": null}]')
    (row,) = map_response(body).rows
    assert math.isnan(row["archived_gb_predicted"]) and row["savings_gb_predicted"] == -math.inf
    assert row["confidence_interval"] == "0.9" and row["model_version"] is None


def test_non_objects_are_rejected_with_a_reason_in_order():
    mapped = map_payload([ROW, 1.5, "x", None, True, [1], ROW])
    assert len(mapped.rows) == 2
    assert [item.raw for item in mapped.rejected] == [1.5, "x", None, True, [1]]
    reasons = [item.reason for item in mapped.rejected]
    assert reasons[0] == "item 1 of the reply is a number, not an object of named outputs"
    assert [r.split(" is ")[1].split(",")[0] for r in reasons] == [
        "a number", "a string", "null", "a boolean", "a list"]
    raw, reason = mapped.rejected[0]  # a (raw item, reason) pair
    assert (raw, reason) == (1.5, reasons[0])


def test_a_scalar_reply_is_one_rejected_item():
    mapped = map_response("42")
    assert mapped.rows == [] and mapped.rejected[0].raw == 42


@pytest.mark.parametrize("body", ["not json", "{'single': 'quotes'}", "", "[1, 2", b"\xff\xfe\x00garbage",
                                  '"just a sentence"', "1" * 5000, "[" * 100_000])
def test_non_json_is_malformed_with_the_start_of_the_body(body):
    with pytest.raises(MalformedResponseError) as caught:
        map_response(body)
    expected = body[:500] if isinstance(body, str) else body.decode("utf-8", "replace")[:500]
    assert caught.value.snippet == expected
    assert "run()" in str(caught.value)


def test_columns_of_different_lengths_are_malformed():
    with pytest.raises(MalformedResponseError, match="different lengths"):
        map_payload({"archived_gb_predicted": [1, 2], "savings_gb_predicted": [1]})


def test_deep_wrapping_is_malformed():
    text = json.dumps([ROW])
    for _ in range(10):
        text = json.dumps(text)
    with pytest.raises(MalformedResponseError):
        map_response(text)


def test_empty_replies_have_no_rows():
    for body in ("[]", '{"predictions": []}', '{"archived_gb_predicted": []}'):
        assert map_response(body).rows == [] and map_response(body).rejected == []


def test_200k_rows_map_completely():
    """Correctness at size; speed is a bench figure (bench/), never a timed assertion."""
    rows = [{**ROW, "archived_gb_predicted": float(i), "other": i} for i in range(200_000)]
    body = json.dumps({"predictions": rows}).encode()
    started = time.perf_counter()
    mapped = map_response(body)
    took = time.perf_counter() - started
    print(f"200,000 rows ({len(body) / 1e6:.1f} MB) parsed and mapped in {took:.2f} s")
    assert len(mapped.rows) == 200_000 and mapped.rows[-1]["archived_gb_predicted"] == 199_999.0


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers()
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.sampled_from(["predictions", "data", "result", "model_version",
                                       "archived_gb_predicted", "x"]) | st.text(max_size=8),
                      children, max_size=6),
    max_leaves=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(json_values)
def test_any_json_maps_or_is_malformed(value):
    for body in (json.dumps(value), json.dumps(json.dumps(value))):
        try:
            mapped = map_response(body)
        except MalformedResponseError as exc:
            assert len(exc.snippet) <= 500
            continue
        assert all(isinstance(row, dict) for row in mapped.rows)
        assert all(isinstance(item.reason, str) for item in mapped.rejected)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_maps_or_is_malformed(body):
    try:
        map_response(body)
    except MalformedResponseError:
        pass


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(json_values, max_size=8))
def test_a_list_reply_accounts_for_every_item(items):
    mapped = map_items(items, {"archived_gb_predicted": "a"})
    assert len(mapped.rows) + len(mapped.rejected) == len(items)
