"""The circuit breaker alone (injected clock) and in front of the fake endpoint."""

from __future__ import annotations

import logging
import threading

import pytest

from ml_client.breaker import BreakerState, CircuitBreaker
from ml_client.errors import AuthError, BreakerOpenError, EndpointHTTPError
from tests.fakes.azureml_server import FakeAzureML, Reply


def failing(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.allow()
        breaker.record_failure()


def test_opens_after_threshold_consecutive_failures(clock):
    breaker = CircuitBreaker(3, 60, clock=clock)
    failing(breaker, 2)
    breaker.allow()
    breaker.record_success()  # a success resets the count
    failing(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    failing(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(BreakerOpenError) as caught:
        breaker.allow()
    assert caught.value.attempts == 0 and caught.value.retry_in == 60
    assert "next probe is in 60 s" in str(caught.value)


def test_half_open_probe_after_cooldown_then_closed(clock):
    breaker = CircuitBreaker(1, 60, clock=clock)
    failing(breaker, 1)
    clock.advance(59.9)
    with pytest.raises(BreakerOpenError):
        breaker.allow()
    clock.advance(0.1)
    breaker.allow()  # the probe
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(BreakerOpenError, match="probe call is in flight"):
        breaker.allow()  # only one probe at a time
    breaker.record_success()
    assert breaker.snapshot().state is BreakerState.CLOSED
    breaker.allow()


def test_failed_probe_reopens_for_a_full_cooldown(clock):
    breaker = CircuitBreaker(2, 30, clock=clock)
    failing(breaker, 2)
    clock.advance(30)
    breaker.allow()
    breaker.record_failure()
    snap = breaker.snapshot()
    assert snap.state is BreakerState.OPEN and snap.consecutive_failures == 3
    assert (snap.opened_at, snap.next_probe_at, snap.seconds_to_probe) == (clock.now, clock.now + 30, 30)
    clock.advance(29)
    with pytest.raises(BreakerOpenError):
        breaker.allow()


def test_release_frees_the_probe_without_a_verdict(clock):
    breaker = CircuitBreaker(1, 10, clock=clock)
    failing(breaker, 1)
    clock.advance(10)
    breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.allow()  # the next caller may probe


def test_snapshot_when_closed_and_reset(clock):
    breaker = CircuitBreaker(1, 10, clock=clock)
    assert breaker.snapshot() == (snap := breaker.snapshot())
    assert (snap.state, snap.consecutive_failures, snap.opened_at, snap.next_probe_at) == (
        BreakerState.CLOSED, 0, None, None)
    failing(breaker, 1)
    breaker.reset()
    assert breaker.snapshot().state == "closed"


def test_every_transition_is_logged(clock, caplog):
    caplog.set_level(logging.INFO, logger="ml_client.breaker")
    breaker = CircuitBreaker(1, 10, clock=clock)
    failing(breaker, 1)
    clock.advance(10)
    breaker.allow()
    breaker.record_failure()
    clock.advance(10)
    breaker.allow()
    breaker.record_success()
    moves = [(r.levelname, r.getMessage().split("(")[0].strip()) for r in caplog.records]
    assert moves == [
        ("WARNING", "circuit breaker for the Azure ML endpoint: closed -> open"),
        ("INFO", "circuit breaker for the Azure ML endpoint: open -> half_open"),
        ("WARNING", "circuit breaker for the Azure ML endpoint: half_open -> open"),
        ("INFO", "circuit breaker for the Azure ML endpoint: open -> half_open"),
        ("INFO", "circuit breaker for the Azure ML endpoint: half_open -> closed"),
    ]


def test_exactly_one_of_many_threads_gets_the_probe(clock):
    breaker = CircuitBreaker(1, 10, clock=clock)
    failing(breaker, 1)
    clock.advance(10)
    admitted: list[bool] = []
    barrier = threading.Barrier(16)

    def attempt() -> None:
        barrier.wait()
        try:
            breaker.allow()
            admitted.append(True)
        except BreakerOpenError:
            admitted.append(False)
        breaker.snapshot()

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 1 and len(admitted) == 16


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        CircuitBreaker(0, 10)


# -- in front of the endpoint --

def test_breaker_around_the_real_endpoint(fake_azureml: FakeAzureML, make_client, clock):
    client = make_client(max_attempts=1, breaker_threshold=2, breaker_cooldown=300,
                         client_kwargs={"clock": clock})
    fake_azureml.enqueue(Reply.error(500), times=2)
    for _ in range(2):
        with pytest.raises(EndpointHTTPError):
            client.score()
    assert client.breaker.state is BreakerState.OPEN
    sent = fake_azureml.request_count

    with pytest.raises(BreakerOpenError) as caught:
        client.score()
    assert caught.value.attempts == 0
    assert fake_azureml.request_count == sent  # fast fail: nothing reached the server

    clock.advance(300)
    fake_azureml.enqueue(Reply.error(500))
    with pytest.raises(EndpointHTTPError):
        client.score()  # the half-open probe fails ...
    assert client.breaker.state is BreakerState.OPEN and fake_azureml.request_count == sent + 1
    with pytest.raises(BreakerOpenError):
        client.score()  # ... and the breaker is open again

    clock.advance(300)
    assert len(client.score().rows) == 20  # the probe succeeds
    assert client.breaker.state is BreakerState.CLOSED
    assert client.score().attempts == 1


def test_credential_failures_do_not_open_the_breaker(fake_azureml: FakeAzureML, make_client):
    class Broken:
        def get_token(self, *scopes, **kwargs):
            raise RuntimeError("no identity here")

    client = make_client(api_key=None, breaker_threshold=1, client_kwargs={"credential": Broken()})
    for _ in range(3):
        with pytest.raises(AuthError) as caught:
            client.score()
        assert caught.value.attempts == 0 and caught.value.status is None
    assert client.breaker.state is BreakerState.CLOSED
    assert fake_azureml.request_count == 0
