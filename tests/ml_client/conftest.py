"""Shared fixtures for the scoring-client tests: the fake endpoint and clients aimed at it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ml_client.client import ScoringClient
from tests.fakes.azureml_server import FakeAzureML, fake_azureml  # noqa: F401 - fixture


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(fake_azureml: FakeAzureML) -> Iterator[Callable[..., ScoringClient]]:  # noqa: F811
    """``make_client(**settings_overrides, client_kwargs={...})``: a client for the fake server."""
    clients: list[ScoringClient] = []

    def build(*, client_kwargs: dict[str, Any] | None = None, **overrides: Any) -> ScoringClient:
        kwargs = {"rng": random.Random(1234), **(client_kwargs or {})}
        client = ScoringClient(fake_azureml.settings(**overrides), **kwargs)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
