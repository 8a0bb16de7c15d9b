"""A hostile or absent endpoint: every fault ends as a recorded failed/fallback pull, a clear
log line, and a scheduler that runs the next slot normally."""

from __future__ import annotations

import logging
import os
import socket
import time

import pytest

from monitoring.config import load_config
from monitoring.context import open_monitor
from monitoring.endpoint import EndpointSource
from monitoring.pipeline import Pipeline
from monitoring.scheduler import PullScheduler, scheduler_status
from monitoring.store import Pulls, Rejected
from tests.fakes.azureml_server import FakeAzureML, Reply
from tests.support.tls_server import SelfSignedServer


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAULTS = {
    "connection refused": ({"scoring_uri": "http://127.0.0.1:{closed}/score"}, None, "could not connect"),
    "dns failure": ({"scoring_uri": "https://no-such-endpoint.invalid/score"}, None, "could not"),
    "tls error": ({"scoring_uri": "{tls}"}, None, "tls"),
    "slow loris (body)": ({}, Reply.json([{"a": 1}] * 50, dribble=0.05), "slowly"),
    "slow loris (headers)": ({}, Reply.rows(5, dribble_headers=0.02), "headers very slowly"),
    "body cut short": ({}, Reply.json([{"archived_gb_predicted": 1.0}] * 100, truncate_to=200), "cut short"),
    "10 MB of garbage": ({}, Reply.text(os.urandom(5 * 2**20).hex()), "not"),
    "401": ({"api_key": "wrong-key"}, None, "credentials"),
    "403": ({}, Reply.error(403), "credentials"),
    "404": ({}, Reply.error(404), "AZURE_ML_ENDPOINT_URL"),
    "429 storm": ({}, Reply.error(429, headers={"Retry-After": "0"}), "429"),
    "5xx storm": ({}, Reply.error(502), "502"),
}
DEADLINE = 2.0


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_recorded_and_the_scheduler_carries_on(fault, env, fake_azureml: FakeAzureML,  # noqa: F811
                                                        clock, caplog) -> None:
    overrides, reply, hint = FAULTS[fault]
    with SelfSignedServer() as tls_url:
        overrides = {k: v.format(closed=_closed_port(), tls=tls_url) if isinstance(v, str) else v
                     for k, v in overrides.items()}
        monitor = open_monitor(load_config({**env, **fake_azureml.env()}), clock=clock)
        try:
            monitor.settings.update(monitor.users.get("admin") and _admin(),
                                    {"endpoint_timeout_seconds": 0.3, "retry_max_attempts": 3})
            source = EndpointSource(fake_azureml.settings(total_deadline=DEADLINE, **overrides),
                                    monitor.settings.effective)
            scheduler = PullScheduler(monitor, Pipeline(monitor, source), holder="t")
            if reply is not None:
                fake_azureml.enqueue(reply, times=10)
            caplog.set_level(logging.WARNING)
            started = time.monotonic()
            assert scheduler.tick() is True  # the cycle ran; the failure is data, not a crash
            elapsed = time.monotonic() - started
            with monitor.store.read() as conn:
                (pull,) = Pulls(conn).recent(0, 2**62)
                assert {r["source"] for r in Rejected(conn).recent(0, 2**62)} <= {"mock"}  # none half-stored
            assert (pull.outcome, pull.source) == ("fallback", "mock"), pull  # labelled simulated
            assert hint.lower() in pull.error.lower(), pull.error
            if fault != "dns failure":  # the resolver is the host's; its time is not ours to bound
                assert elapsed < DEADLINE + 3.0, f"{fault}: the cycle took {elapsed:.1f} s"
            lines = [r.getMessage() for r in caplog.records if r.name == "monitoring.ingest"]
            assert any(hint.lower() in line.lower() for line in lines), lines  # one clear line
            assert not any(r.exc_info for r in caplog.records)  # no traceback
            assert fake_azureml.api_key not in caplog.text
            assert scheduler_status(monitor)["last_error"] is None
            fake_azureml.clear()
            clock.advance(hours=1)
            assert scheduler.tick() is True  # the next slot runs normally
            with monitor.store.read() as conn:
                latest = Pulls(conn).latest()
            assert latest.id != pull.id
            broken_config = "api_key" in overrides or "scoring_uri" in overrides
            assert latest.outcome == ("fallback" if broken_config else "ok")
        finally:
            monitor.close()


def test_a_5xx_storm_over_cycles_opens_the_breaker_and_recovery_closes_it(wired) -> None:
    """A storm that lasts: after the threshold the breaker stops calling, fallback continues,
    and once the cooldown has passed one good reply brings endpoint data back."""
    wired.server.default = Reply.error(503, "overloaded")
    outcomes = []
    for _ in range(5):
        outcomes.append(wired.pipeline.run_cycle(wired.clock(), "scheduled").pull)
        wired.clock.advance(hours=1)
    calls = wired.server.request_count
    assert [p.outcome for p in outcomes] == ["fallback"] * 5
    assert wired.source.breaker_state() == "open"
    assert "circuit breaker" in outcomes[-1].error.lower() and calls == 3 * 3  # 3 cycles x 3 attempts
    wired.server.default = Reply.rows(5)
    wired.breaker_clock.t += 61  # the cooldown (60 s) has passed
    pull = wired.pipeline.run_cycle(wired.clock(), "scheduled").pull
    assert (pull.outcome, pull.source, wired.source.breaker_state()) == ("ok", "azure_ml", "closed")


def _admin():
    from monitoring.actors import Actor

    return Actor("admin", "admin")
