"""A hostile or absent endpoint: every fault ends as a recorded failed/fallback pull, a clear
log line, and a scheduler that runs the next slot normally."""

from __future__ import annotations

import logging
import os
import socket

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
    "connection refused": ({"scoring_uri": "http://127.0.0.1:{closed}/score"}, None, "could not"),
    "dns failure": ({"scoring_uri": "https://no-such-endpoint.invalid/score"}, None, "could not"),
    "tls error": ({"scoring_uri": "{tls}"}, None, "tls"),
    "slow loris": ({}, Reply.json([{"a": 1}] * 50, dribble=0.05), "slowly"),
    "body cut short": ({}, Reply.json([{"archived_gb_predicted": 1.0}] * 100, truncate_to=200), ""),
    "10 MB of garbage": ({}, Reply.text(os.urandom(5 * 2**20).hex()), "not"),
    "401": ({"api_key": "wrong-key"}, None, "credentials"),
    "403": ({}, Reply.error(403), "credentials"),
    "404": ({}, Reply.error(404), "AZURE_ML_ENDPOINT_URL"),
    "429 storm": ({}, Reply.error(429, headers={"Retry-After": "0"}), "429"),
    "5xx storm": ({}, Reply.error(502), "502"),
}


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
            source = EndpointSource(fake_azureml.settings(total_deadline=2.0, **overrides),
                                    monitor.settings.effective)
            scheduler = PullScheduler(monitor, Pipeline(monitor, source), holder="t")
            if reply is not None:
                fake_azureml.enqueue(reply, times=10)
            caplog.set_level(logging.WARNING)
            assert scheduler.tick() is True  # the cycle ran; the failure is data, not a crash
            with monitor.store.read() as conn:
                (pull,) = Pulls(conn).recent(0, 2**62)
                quarantined = Rejected(conn).recent(0, 2**62)
            assert pull.outcome in ("failed", "fallback", "partial"), pull
            if pull.outcome != "partial":
                assert pull.source == "mock" and pull.error
                assert hint.lower() in pull.error.lower()
            else:
                assert quarantined
            lines = [r.getMessage() for r in caplog.records if r.name == "monitoring.ingest"]
            assert lines and not any(r.exc_info for r in caplog.records)
            assert fake_azureml.api_key not in caplog.text
            assert scheduler_status(monitor)["last_error"] is None
            fake_azureml.clear()
            clock.advance(hours=1)
            if "api_key" not in overrides and "scoring_uri" not in overrides:
                assert scheduler.tick() is True
                with monitor.store.read() as conn:
                    assert Pulls(conn).latest().outcome == "ok"
        finally:
            monitor.close()


def _admin():
    from monitoring.actors import Actor

    return Actor("admin", "admin")
