"""The channel: bounded, retried with back-off, and never in the way of a cycle or a shutdown
when the ingestion endpoint refuses connections or never answers."""

from __future__ import annotations

import logging
import time

import pytest

from monitoring import events
from monitoring.appinsights.channel import BoundedQueue
from monitoring.appinsights.sink import AppInsightsSink
from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.scheduler import scheduler_status
from tests.fakes.ingestion_server import IKEY, FakeIngestion, SilentServer, refused_url


def test_an_outage_delays_items_but_loses_none(monitor, telemetry_for) -> None:
    with FakeIngestion(status=[503, 429, 500]) as server:
        telemetry = telemetry_for(monitor.config, server.connection_string(), max_backoff=0.2)
        for i in range(5):
            events.emit("login_failed", {"reason": "bad_password", "user": f"user{i}"})
        telemetry.sender.queue.flush()  # send now; the refusals are retried on the thread's own
        assert server.wait_for(lambda envelopes: len(envelopes) >= 5, timeout=10), telemetry.stats()
        assert telemetry.flush(5)
        users = sorted(e["data"]["baseData"]["properties"]["user"] for e in server.of_type("Event"))
        assert users == [f"user{i}" for i in range(5)]  # each once, after three refusals
        assert len(server.refused) == 3 and telemetry.stats()["failed_sends"] == 3
        server.save("outage")


def test_the_queue_is_bounded_and_drops_the_oldest_with_a_counted_warning(caplog) -> None:
    from applicationinsights.channel import SynchronousSender

    queue = BoundedQueue(SynchronousSender(refused_url() + "v2/track"), max_items=3)
    with caplog.at_level(logging.WARNING, logger="monitoring.appinsights.channel"):
        for i in range(7):
            queue.put({"n": i})
    assert [queue.get()["n"] for _ in range(3)] == [4, 5, 6] and queue.get() is None
    assert queue.dropped == 4
    (warning,) = [r for r in caplog.records if "dropped" in r.getMessage()]  # once per minute
    assert warning.telemetry_dropped == 1
    queue.put_back([{"n": "a"}, {"n": "b"}])
    queue.put({"n": "c"})
    assert [queue.get()["n"] for _ in range(3)] == ["a", "b", "c"]


@pytest.mark.parametrize("down", ["refused", "never-answers"])
def test_a_down_ingestion_endpoint_never_slows_a_cycle_or_a_shutdown(
        env, fake_azureml, clock, down: str, caplog) -> None:
    from monitoring import lifecycle

    with SilentServer() as silent:
        url = refused_url() if down == "refused" else silent.url
        connection = f"InstrumentationKey={IKEY};IngestionEndpoint={url}"
        config = load_config({**env, **fake_azureml.env(),
                              "APPLICATIONINSIGHTS_CONNECTION_STRING": connection})
        monitor = open_monitor(config, clock=clock)
        background = lifecycle.start(monitor)
        try:
            telemetry = background.extras["telemetry"]
            deadline = time.monotonic() + 15  # let the scheduler's first pull finish first
            while scheduler_status(monitor).get("last_run_at") is None and time.monotonic() < deadline:
                time.sleep(0.05)
            for _ in range(3):  # each cycle emits ~15 items; the sender is stuck or refused
                clock.advance(hours=1)
                started = time.perf_counter()
                report = background.pipeline.run_cycle(clock(), "manual")
                cycle_s = time.perf_counter() - started
                assert report.pull.outcome == "ok" and not report.errors
                assert cycle_s < 3.0, cycle_s
            for i in range(3000):  # far more than the bound: the oldest go, counted
                events.emit("login_failed", {"reason": "bad_password", "user": f"u{i}"})
            stats = telemetry.stats()
            # (one batch of 100 may be in the sender's hands, outside the queue)
            assert stats["queued"] <= 2000 and stats["dropped"] >= 900 and stats["sent"] == 0
            assert any("dropped the oldest" in r.getMessage() for r in caplog.records)
            health = background.health.fresh().to_dict()
            (check,) = [c for c in health["checks"] if c["name"] == "telemetry"]
            assert check["status"] == "healthy" and check["data"]["dropped"] >= 900
        finally:
            started = time.perf_counter()
            background.stop()
            stop_s = time.perf_counter() - started
        # telemetry's share: one failed send when refused, its 3 s flush timeout when hung
        assert stop_s < (1.5 if down == "refused" else 5.0), stop_s
        assert not any(isinstance(s, AppInsightsSink) for s in events.subscribers())
        if down == "never-answers":
            assert silent.accepted >= 1  # the sender really was stuck on an open connection
    print(f"\n[{down}] cycle {cycle_s * 1000:.0f} ms, shutdown {stop_s * 1000:.0f} ms")


def test_shutdown_flushes_what_is_queued_and_the_buffered_page_timings(env, fake_azureml, clock,
                                                                       ingestion) -> None:
    """Items still queued at a stop (the sender sends every 5 s) and page timings still in the
    buffer (written every 60 s) reach the ingestion endpoint and the store at shutdown."""
    from monitoring import lifecycle
    from monitoring.store import Metrics
    from monitoring.views.common import TIMINGS

    config = load_config({**env, **fake_azureml.env(),
                          "APPLICATIONINSIGHTS_CONNECTION_STRING": ingestion.connection_string()})
    background = lifecycle.start(open_monitor(config, clock=clock))
    try:
        deadline = time.monotonic() + 15  # the start-up pull first, so the stop has nothing else to wait for
        while scheduler_status(background.monitor).get("last_run_at") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        TIMINGS.drain()
        users = [f"late-{i}" for i in range(5)]
        for user in users:
            events.emit("login_failed", {"reason": "bad_password", "user": user})
        TIMINGS.record(1_000, "shutdown.test", 12.5)
        assert not [e for e in ingestion.of_type("Event")
                    if e["data"]["baseData"]["properties"].get("user") in users]  # still queued
    finally:
        background.stop()
    sent = {e["data"]["baseData"]["properties"].get("user") for e in ingestion.of_type("Event")}
    assert set(users) <= sent
    monitor = open_monitor(config, clock=clock, bootstrap_admin=False)
    try:
        with monitor.store.read() as conn:
            assert [s[2] for s in Metrics(conn).samples("page_query_ms", 0, 10_000)] == ["shutdown.test"]
    finally:
        monitor.close()
    ingestion.save("shutdown-flush")
