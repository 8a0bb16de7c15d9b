"""Fixtures for the core: a monitor wired to the fake Azure ML endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.endpoint import EndpointSource
from monitoring.pipeline import Pipeline
from tests.fakes.azureml_server import FakeAzureML, fake_azureml  # noqa: F401
from tests.support.clock import FakeClock


class BreakerClock:
    """Monotonic seconds for the breaker, moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Wired:
    monitor: Monitor
    server: FakeAzureML
    source: EndpointSource
    pipeline: Pipeline
    clock: FakeClock
    breaker_clock: BreakerClock


@pytest.fixture
def wired(env: dict[str, str], fake_azureml: FakeAzureML, clock: FakeClock) -> Iterator[Wired]:  # noqa: F811
    """A monitor with the endpoint configured at the fake server (fast retries, no detector)."""
    config = load_config({**env, **fake_azureml.env()})
    monitor = open_monitor(config, clock=clock)
    monitor.settings.update(monitor.users.get("admin") and _admin(), {
        "retry_max_attempts": 3, "endpoint_timeout_seconds": 0.5, "breaker_failure_threshold": 3,
        "breaker_cooldown_seconds": 60})
    breaker_clock = BreakerClock()
    source = EndpointSource(fake_azureml.settings(), monitor.settings.effective,
                            breaker_clock=breaker_clock)
    pipeline = Pipeline(monitor, source, breaker_state=source.breaker_state)
    yield Wired(monitor, fake_azureml, source, pipeline, clock, breaker_clock)
    monitor.close()


def _admin():
    from monitoring.actors import Actor

    return Actor("admin", "admin")
