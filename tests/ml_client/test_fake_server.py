"""The fake endpoint itself, since other test suites build on it."""

from __future__ import annotations

import time

import requests

from ml_client.settings import from_env
from tests.fakes.azureml_server import FakeAzureML, RecordedRequest, Reply


def test_records_every_request_and_guards_the_route(fake_azureml: FakeAzureML):
    key = {"Authorization": f"Bearer {fake_azureml.api_key}"}
    assert requests.post(fake_azureml.url, json={}, timeout=5).status_code == 401
    assert requests.get(fake_azureml.url, headers=key, timeout=5).status_code == 405
    assert requests.post(fake_azureml.base_url + "/other", headers=key, timeout=5).status_code == 404
    reply = requests.post(fake_azureml.url, json={"a": 1}, headers=key, timeout=5)
    assert reply.status_code == 200 and len(reply.json()) == 20
    assert reply.headers["x-request-id"] == fake_azureml.last_request.request_id
    assert fake_azureml.request_count == 4
    assert fake_azureml.last_request.json() == {"a": 1}


def test_queue_then_default_responder():
    seen: list[RecordedRequest] = []

    def responder(request: RecordedRequest) -> Reply:
        seen.append(request)
        return Reply.json({"predictions": [{"n": len(seen)}]})

    with FakeAzureML(api_key="k", default=responder) as server:
        server.enqueue(Reply.error(503), times=2)
        assert server.pending == 2
        statuses = [requests.post(server.url, headers={"Authorization": "Bearer k"}, timeout=5)
                    for _ in range(3)]
        assert [r.status_code for r in statuses] == [503, 503, 200]
        assert statuses[2].json() == {"predictions": [{"n": 1}]}
        server.clear()
        assert (server.pending, server.request_count) == (0, 0)


def test_settings_and_env_point_at_the_server(fake_azureml: FakeAzureML):
    settings = from_env(fake_azureml.env(AZURE_ML_DEPLOYMENT="blue"))
    assert settings.scoring_uri == fake_azureml.url and settings.deployment == "blue"
    assert fake_azureml.settings(max_attempts=1).max_attempts == 1


def test_stop_is_quick_even_with_a_reply_in_flight():
    server = FakeAzureML().start()
    server.enqueue(Reply(delay=30))
    try:
        requests.post(server.url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=0.2)
    except requests.Timeout:
        pass
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
