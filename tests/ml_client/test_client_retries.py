"""Retries, backoff, Retry-After, the deadline and transport failures, over real sockets."""

from __future__ import annotations

import socket
import time

import pytest

from ml_client.errors import (
    DeadlineExceeded,
    EndpointConnectionError,
    EndpointHTTPError,
    EndpointTimeout,
    EndpointTLSError,
)
from monitoring.errors import EndpointError
from tests.fakes.azureml_server import FakeAzureML, Reply


def test_429_with_retry_after_waits_then_succeeds(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(429, headers={"Retry-After": "1"}))
    client = make_client()
    started = time.monotonic()
    result = client.score()
    elapsed = time.monotonic() - started
    assert result.attempts == 2 and fake_azureml.request_count == 2
    assert elapsed >= 0.95
    first, second = fake_azureml.requests
    assert second.received_at - first.received_at >= 0.95


def test_503_is_retried_a_bounded_number_of_times(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(503), times=10)
    with pytest.raises(EndpointHTTPError) as caught:
        make_client(max_attempts=4).score()
    assert (caught.value.attempts, caught.value.status) == (4, 503)
    assert fake_azureml.request_count == 4
    assert "after 4 attempts" in str(caught.value)


def test_429_after_every_attempt_says_what_to_do(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(429, "slow down"), times=3)
    with pytest.raises(EndpointHTTPError) as caught:
        make_client().score()
    message = str(caught.value)
    assert message.startswith("the endpoint answered 429 Too Many Requests after 3 attempts")
    assert "max_concurrent_requests_per_instance" in message and "slow down" in message
    assert "{" not in message.replace('{"message"', "")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(fake_azureml: FakeAzureML, make_client, status: int):
    fake_azureml.enqueue(Reply.error(status))
    result = make_client().score()
    assert result.attempts == 2 and len(result.rows) == 20


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 424, 501])
def test_other_statuses_are_not_retried(fake_azureml: FakeAzureML, make_client, status: int):
    fake_azureml.enqueue(Reply.error(status))
    with pytest.raises(EndpointError) as caught:
        make_client().score()
    assert caught.value.attempts == 1 and caught.value.status == status
    assert fake_azureml.request_count == 1


def test_backoff_is_exponential_capped_and_uses_the_injected_sleep(fake_azureml: FakeAzureML, make_client):
    waits: list[float] = []
    fake_azureml.enqueue(Reply.error(503), times=4)
    client = make_client(max_attempts=5, backoff_factor=0.5, backoff_max=1.5, backoff_jitter=0.0,
                         client_kwargs={"sleep": waits.append})
    assert client.score().attempts == 5
    assert waits == [0.5, 1.0, 1.5, 1.5]  # the first retry waits too (stock urllib3 would not)


def test_jitter_is_bounded_and_seeded(fake_azureml: FakeAzureML, make_client):
    import random

    runs = []
    for _ in range(2):
        waits: list[float] = []
        fake_azureml.enqueue(Reply.error(503), times=2)
        make_client(backoff_factor=0.2, backoff_jitter=0.1, backoff_max=5,
                    client_kwargs={"sleep": waits.append, "rng": random.Random(99)}).score()
        runs.append(waits)
    assert runs[0] == runs[1]
    assert 0.2 <= runs[0][0] <= 0.3 and 0.4 <= runs[0][1] <= 0.5


def test_retry_after_longer_than_honoured_stops_at_once(fake_azureml: FakeAzureML, make_client):
    waits: list[float] = []
    fake_azureml.enqueue(Reply.error(429, headers={"Retry-After": "120"}))
    with pytest.raises(DeadlineExceeded) as caught:
        make_client(max_retry_after=30, client_kwargs={"sleep": waits.append}).score()
    assert (caught.value.attempts, caught.value.status, caught.value.retry_after) == (1, 429, 120)
    assert "asked to wait 120 s" in str(caught.value)
    assert waits == [] and fake_azureml.request_count == 1


def test_retry_after_past_the_deadline_stops_at_once(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(503, headers={"Retry-After": "3"}))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="deadline") as caught:
        make_client(total_deadline=2.0).score()
    assert time.monotonic() - started < 1.0
    assert caught.value.attempts == 1 and caught.value.status == 503


def test_http_date_retry_after_is_understood(fake_azureml: FakeAzureML, make_client):
    from email.utils import formatdate

    fake_azureml.enqueue(Reply.error(503, headers={"Retry-After": formatdate(time.time() + 3600,
                                                                             usegmt=True)}))
    with pytest.raises(DeadlineExceeded, match="asked to wait"):
        make_client().score()


def test_unreadable_retry_after_falls_back_to_backoff(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.error(503, headers={"Retry-After": "soon"}))
    assert make_client().score().attempts == 2


def test_deadline_follows_the_injected_clock(fake_azureml: FakeAzureML, make_client, clock):
    fake_azureml.enqueue(Reply.error(503), times=5)

    def fake_sleep(seconds: float) -> None:
        clock.advance(seconds)

    with pytest.raises(DeadlineExceeded, match="deadline") as caught:
        make_client(total_deadline=10.0, max_attempts=5, backoff_factor=3.0, backoff_max=60,
                    client_kwargs={"clock": clock, "sleep": fake_sleep}).score()
    # waits 3 and 6 fit in the 10 s budget; the third (12 s) would not, so 3 attempts
    assert caught.value.attempts == 3 and caught.value.status == 503
    assert fake_azureml.request_count == 3


def test_a_reply_whose_headers_came_in_time_is_read_in_full(fake_azureml: FakeAzureML, make_client,
                                                            clock):
    def fake_sleep(seconds: float) -> None:
        clock.advance(9.5)  # the retry starts with 0.5 s of the deadline left

    fake_azureml.enqueue(Reply.error(503))
    result = make_client(total_deadline=10.0, client_kwargs={"clock": clock, "sleep": fake_sleep}).score()
    assert result.attempts == 2 and len(result.rows) == 20


def test_read_timeout_is_retried_then_reported(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(delay=2.0), times=2)
    started = time.monotonic()
    with pytest.raises(EndpointTimeout, match="read timeout 0.3 s") as caught:
        make_client(read_timeout=0.3, max_attempts=2).score()
    assert time.monotonic() - started < 1.5
    assert caught.value.attempts == 2 and caught.value.status is None
    assert fake_azureml.request_count == 2
    assert "AZURE_ML_TIMEOUT_SECONDS" in str(caught.value)


def test_read_timeout_then_success(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(delay=2.0))
    result = make_client(read_timeout=0.3).score()
    assert result.attempts == 2 and len(result.rows) == 20


def test_slow_loris_is_cut_off_at_the_deadline(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(dribble=0.05))  # each byte beats the read timeout
    started = time.monotonic()
    with pytest.raises(EndpointTimeout, match="still arriving") as caught:
        make_client(read_timeout=0.3, total_deadline=0.6).score()
    assert 0.55 <= time.monotonic() - started < 1.5
    assert caught.value.status == 200


def test_dribbled_headers_are_cut_off_at_the_deadline_and_the_next_call_works(fake_azureml: FakeAzureML,
                                                                               make_client):
    """Read timeouts bound each recv, not the header block; the watchdog bounds the whole."""
    fake_azureml.enqueue(Reply.rows(5, dribble_headers=0.02))  # ~60 s of headers, a byte at a time
    client = make_client(read_timeout=0.3, total_deadline=0.8)
    started = time.monotonic()
    with pytest.raises(EndpointTimeout, match="headers very slowly") as caught:
        client.score()
    assert 0.75 <= time.monotonic() - started < 3.0  # the headers alone would take ~60 s
    assert caught.value.attempts == 1
    assert len(client.score().rows) == 20  # the shut-down socket is not reused


def test_body_cut_short_is_a_connection_error(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply.rows(50, truncate_to=100))
    with pytest.raises(EndpointConnectionError, match="cut short") as caught:
        make_client().score()
    assert (caught.value.attempts, caught.value.status) == (1, 200)


def test_connection_refused_is_retried_then_reported(make_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again on exit: nothing listens there
    with pytest.raises(EndpointConnectionError, match="could not connect") as caught:
        make_client(scoring_uri=f"http://127.0.0.1:{port}/score", max_attempts=3).score()
    assert caught.value.attempts == 3 and caught.value.status is None
    assert "AZURE_ML_ENDPOINT_URL" in str(caught.value)


def test_dropped_connection_is_retried(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(drop=True))
    assert make_client().score().attempts == 2


def test_connection_dropped_every_time_is_reported(fake_azureml: FakeAzureML, make_client):
    fake_azureml.enqueue(Reply(drop=True), times=3)
    with pytest.raises(EndpointConnectionError, match="broke before a reply") as caught:
        make_client().score()
    assert caught.value.attempts == 3 and fake_azureml.request_count == 3


def test_tls_failure_is_not_retried(fake_azureml: FakeAzureML, make_client):
    # https to a plain-http server: the handshake fails, as with a bad certificate chain
    with pytest.raises(EndpointTLSError, match="TLS with 127.0.0.1 failed") as caught:
        make_client(scoring_uri=f"https://127.0.0.1:{fake_azureml.port}/score").score()
    assert caught.value.attempts == 1
