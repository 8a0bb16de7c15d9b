"""ScoringClient against the fake endpoint: auth, headers, reply shapes, status handling, secrets."""

from __future__ import annotations

import gzip
import json
import logging
import math
import time

import pytest

from ml_client.client import ScoringClient
from ml_client.errors import (
    AuthError,
    EndpointHTTPError,
    EndpointNotFoundError,
    MalformedResponseError,
    ModelError,
    ResponseTooLargeError,
)
from monitoring.errors import EndpointError
from tests.fakes.azureml_server import SEED_MODEL_VERSION, FakeAzureML, Reply, seed_rows

FIELDS = {"archived_gb_predicted", "savings_gb_predicted", "confidence_interval", "model_version"}


def test_key_auth_headers_and_body_reach_the_endpoint(fake_azureml: FakeAzureML, make_client):
    body = {"input_data": {"columns": ["account"], "data": [["a-1"]]}}
    result = make_client(deployment="blue", request_body=body).score()

    seen = fake_azureml.last_request
    assert seen.headers["authorization"] == f"Bearer {fake_azureml.api_key}"
    assert seen.headers["azureml-model-deployment"] == "blue"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == body
    assert len(result.rows) == 20 and set(result.rows[0]) == FIELDS
    assert result.rows[0]["model_version"] == SEED_MODEL_VERSION
    assert (result.status, result.attempts, result.rejected) == (200, 1, [])
    assert result.request_id == seen.request_id
    assert result.deployment == "blue"
    assert result.latency_ms > 0 and result.bytes_received > 0


def test_no_deployment_header_unless_configured(fake_azureml: FakeAzureML, make_client):
    result = make_client().score()
    assert "azureml-model-deployment" not in fake_azureml.last_request.headers
    assert result.deployment == fake_azureml.served_by  # what the endpoint says served it


ROWS = seed_rows(3)


@pytest.mark.parametrize("reply", [
    Reply.json(ROWS),
    Reply.json({"predictions": ROWS}),
    Reply.json({"outputs": ROWS}),
    Reply.wrapped(ROWS),
    Reply.wrapped({"predictions": ROWS}, times=2),
    Reply.json({name: [row[name] for row in ROWS] for name in ROWS[0]}),
    Reply.rows(3, chunked=True),
    Reply.rows(3, close_delimited=True),
], ids=["list", "predictions", "outputs", "string-wrapped", "double-wrapped", "columnar", "chunked",
        "close-delimited"])
def test_reply_shapes_map_to_the_same_rows(fake_azureml: FakeAzureML, make_client, reply: Reply):
    fake_azureml.enqueue(reply)
    assert make_client().score().rows == ROWS


def test_single_object_reply_is_one_row(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.json(ROWS[0]))
    assert make_client().score().rows == [ROWS[0]]


def test_values_pass_through_and_non_objects_are_rejected(fake_azureml: FakeAzureML, make_client):
    items = [{"archived_gb_predicted": float("nan"), "savings_gb_predicted": float("inf"),
              "confidence_interval": "high", "model_version": 3, "extra": 1}, 5, [1, 2], None]
    fake_azureml.enqueue(Reply.json(items))
    result = make_client().score()

    (row,) = result.rows
    assert math.isnan(row["archived_gb_predicted"]) and row["savings_gb_predicted"] == math.inf
    assert row["confidence_interval"] == "high" and row["model_version"] == 3 and "extra" not in row
    assert [raw for raw, _ in result.rejected] == [5, [1, 2], None]
    assert "item 1 of the reply is a number" in result.rejected[0].reason


def test_non_json_reply_is_malformed_with_a_snippet(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.text("<html>upstream connect error " + "x" * 2000))
    with pytest.raises(MalformedResponseError) as caught:
        make_client().score()
    assert caught.value.snippet.startswith("<html>upstream connect error")
    assert len(caught.value.snippet) == 500
    assert (caught.value.attempts, caught.value.status) == (1, 200)
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_200k_row_reply_maps_completely(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.json(seed_rows(100, seed=3) * 2_000))
    client = make_client()
    started = time.perf_counter()
    result = client.score()
    took = time.perf_counter() - started
    print(f"200,000-row reply ({result.bytes_received / 1e6:.1f} MB) fetched and mapped in {took:.2f} s")
    assert len(result.rows) == 200_000 and set(result.rows[-1]) == FIELDS


@pytest.mark.parametrize("framing", [{}, {"close_delimited": True}, {"chunked": True}],
                         ids=["content-length", "close-delimited", "chunked"])
def test_reply_larger_than_the_cap_is_refused(fake_azureml: FakeAzureML, make_client, framing):
    fake_azureml.enqueue(Reply.text("garbage " * 100_000, **framing))
    with pytest.raises(ResponseTooLargeError) as caught:
        make_client(max_response_bytes=10_000).score()
    assert "10,000-byte limit" in str(caught.value)
    assert isinstance(caught.value, MalformedResponseError)


def test_wrong_key_is_an_auth_error_and_not_retried(fake_azureml: FakeAzureML, make_client):
    with pytest.raises(AuthError) as caught:
        make_client(api_key="not-the-key").score()
    assert caught.value.status == 401 and caught.value.attempts == 1
    assert "check AZURE_ML_API_KEY or the managed identity's role" in str(caught.value)
    assert "not-the-key" not in str(caught.value)
    assert fake_azureml.request_count == 1


def test_forbidden_is_an_auth_error(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(403))
    with pytest.raises(AuthError, match="rejected the credentials"):
        make_client().score()


def test_wrong_path_says_check_the_url(fake_azureml: FakeAzureML, make_client):
    with pytest.raises(EndpointNotFoundError, match="check AZURE_ML_ENDPOINT_URL") as caught:
        make_client(scoring_uri=fake_azureml.base_url + "/scor").score()
    assert caught.value.status == 404 and fake_azureml.request_count == 1


def test_unknown_deployment_is_not_found(make_client, fake_azureml: FakeAzureML):
    fake_azureml.deployments = {"blue"}
    with pytest.raises(EndpointNotFoundError, match="AZURE_ML_DEPLOYMENT"):
        make_client(deployment="green").score()


def test_model_error_424_reports_azure_headers_and_is_not_retried(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(424, "model failed", headers={
        "ms-azureml-model-error-statuscode": "500",
        "ms-azureml-model-error-reason": "KeyError: 'input_data'"}))
    with pytest.raises(ModelError) as caught:
        make_client().score()
    error = caught.value
    assert (error.status, error.attempts, fake_azureml.request_count) == (424, 1, 1)
    assert (error.model_status, error.model_reason) == ("500", "KeyError: 'input_data'")
    assert "model status 500" in str(error) and "KeyError" in str(error)
    assert error.request_id == fake_azureml.last_request.request_id


def test_bad_request_is_not_retried_and_points_at_the_template(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(400, "missing column 'account'"))
    with pytest.raises(EndpointHTTPError, match="AZURE_ML_REQUEST_FILE") as caught:
        make_client().score()
    assert "missing column 'account'" in str(caught.value)
    assert fake_azureml.request_count == 1


def test_redirect_is_not_followed(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(status=307, body=b"", headers={"Location": "http://127.0.0.1:1/score"}))
    with pytest.raises(EndpointHTTPError, match="redirected") as caught:
        make_client().score()
    assert caught.value.status == 307 and fake_azureml.request_count == 1


def test_an_echoed_key_is_scrubbed_from_messages(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(400, f"bad header Bearer {fake_azureml.api_key}"))
    with pytest.raises(EndpointHTTPError) as caught:
        make_client().score()
    assert fake_azureml.api_key not in str(caught.value) and "***" in str(caught.value)


def test_the_key_never_appears_in_logs_or_errors(fake_azureml: FakeAzureML, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(read_timeout=0.2, max_attempts=2, breaker_threshold=50)
    fake_azureml.enqueue(Reply.error(503), Reply.error(503), Reply.text("nope"),
                         Reply(delay=0.5), Reply(delay=0.5), Reply.error(424), Reply.rows(2))
    messages = []
    for _ in range(4):
        with pytest.raises(EndpointError) as caught:
            client.score()
        messages.append(str(caught.value))
    client.score()
    with pytest.raises(AuthError) as caught:
        make_client(api_key="wrong-key-123").score()
    messages.append(str(caught.value))

    logged = [record.getMessage() for record in caplog.records]
    assert any("scoring call failed" in line for line in logged)
    for text in messages + logged:
        assert fake_azureml.api_key not in text and "wrong-key-123" not in text
        assert "Bearer" not in text
    assert fake_azureml.api_key not in repr(client.settings) + repr(client._auth)


def test_one_log_line_per_failed_call(fake_azureml: FakeAzureML, make_client, caplog):
    fake_azureml.enqueue(Reply.error(503), times=3)
    caplog.set_level(logging.INFO, logger="ml_client")
    with pytest.raises(EndpointHTTPError):
        make_client().score()
    (line,) = [r for r in caplog.records if r.name == "ml_client.client"]
    assert line.levelno == logging.WARNING
    assert "status=503" in line.getMessage() and "attempts=3" in line.getMessage()
    assert "elapsed_ms=" in line.getMessage()


def test_request_body_is_sent_as_compact_json(fake_azureml: FakeAzureML):
    settings = fake_azureml.settings(request_body=[{"a": 1}])
    with ScoringClient(settings) as client:
        client.score()
    assert fake_azureml.last_request.body == b'[{"a":1}]'
    assert json.loads(fake_azureml.last_request.body) == [{"a": 1}]


def test_gzip_replies_are_decoded(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(body=gzip.compress(json.dumps(ROWS).encode()),
                               headers={"Content-Encoding": "gzip"}))
    assert make_client().score().rows == ROWS


def test_a_decompression_bomb_stops_at_the_cap(fake_azureml: FakeAzureML, make_client):
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")  # ~50 KB on the wire, 50 MB inflated
    fake_azureml.enqueue(Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(ResponseTooLargeError):
        make_client(max_response_bytes=1_000_000).score()
