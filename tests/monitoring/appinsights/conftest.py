"""App Insights tests: a loopback ingestion endpoint and telemetry that is always closed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from monitoring.appinsights import Telemetry, start_telemetry
from monitoring.secret import Secret
from tests.fakes.ingestion_server import FakeIngestion


@pytest.fixture
def ingestion() -> Iterator[FakeIngestion]:
    with FakeIngestion() as server:
        yield server


@pytest.fixture
def telemetry_for() -> Iterator[Callable[..., Telemetry]]:
    """Start telemetry for a config and connection string; closed after the test (it
    subscribes to events and adds a log handler process-wide)."""
    started: list[Telemetry] = []

    def start(config, connection: str, **options) -> Telemetry:
        telemetry = start_telemetry(replace(config, appinsights_connection_string=Secret(connection)),
                                    interval=options.pop("interval", 0.05), **options)
        assert telemetry is not None
        started.append(telemetry)
        return telemetry

    yield start
    for telemetry in started:
        telemetry.close(timeout=0.5)
