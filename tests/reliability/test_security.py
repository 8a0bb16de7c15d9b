"""Security checks: brute force ends locked, writes are role-checked in the service layer,
and nothing but the health routes (and /metrics) answers without a login."""

from __future__ import annotations

import importlib
import os

import pytest
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient

from monitoring.actors import Actor
from monitoring.auth import UserService
from monitoring.context import Monitor, set_current
from monitoring.errors import PermissionDeniedError

ADMIN = Actor("admin", "admin")
ANALYST = Actor("ann", "analyst")
PUBLIC = {"/health", "/health/ready", "/metrics"}


def test_brute_force_of_100_passwords_ends_locked_and_stays_locked(monitor: Monitor, clock) -> None:
    users = UserService(monitor.store, clock, max_attempts=5, lockout_minutes=15)
    users.add(ADMIN, "victim", "analyst", "the-real-password")
    results = [users.login("victim", f"guess-{i:03d}") for i in range(100)]
    assert not any(r.ok for r in results)
    assert "locked" in results[-1].message
    assert sum("locked" in r.message for r in results) >= 95
    restarted = UserService(monitor.store, clock, max_attempts=5, lockout_minutes=15)
    assert "locked" in restarted.login("victim", "the-real-password").message  # persisted, not in memory


def test_analyst_writes_are_refused_by_the_services(monitor: Monitor) -> None:
    monitor.users.add(ADMIN, "ann", "analyst", "ann-password")
    writes = [
        lambda: monitor.settings.update(ANALYST, {"pull_interval_minutes": 5}),
        lambda: monitor.users.add(ANALYST, "eve", "admin", "eve-password"),
        lambda: monitor.users.set_disabled(ANALYST, "admin", True),
        lambda: monitor.users.reset_password(ANALYST, "admin", "new-password-1"),
        lambda: monitor.users.set_role(ANALYST, "ann", "admin"),
        lambda: monitor.users.unlock(ANALYST, "admin"),
    ]
    for write in writes:
        with pytest.raises(PermissionDeniedError):
            write()
    assert monitor.users.get("ann").role == "analyst"
    assert monitor.settings.effective()["pull_interval_minutes"] == 60


@pytest.fixture
def app_client(env: dict[str, str], monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    set_current(None)
    app_module = importlib.import_module("app")
    with TestClient(app_module.app) as client:
        yield client, app_module.app
    set_current(None)


def test_only_health_and_metrics_routes_answer_without_a_login(app_client, env) -> None:
    client, app = app_client
    starlette_app = app._starlette_app
    ours = {r.path for r in starlette_app.routes if isinstance(r, Route | WebSocketRoute)
            and not r.path.startswith(("/_stcore", "/media", "/component", "/auth", "/oauth2callback"))}
    assert ours == PUBLIC
    secrets = [v for k, v in env.items() if "KEY" in k or "PASSWORD" in k]
    for path in sorted(PUBLIC):
        response = client.get(path)
        assert response.status_code == 200
        assert not any(s in response.text for s in secrets)
    assert client.post("/_stcore/agent/interact", json={}).status_code in (403, 404)
    page = client.get("/settings")  # every other path is only Streamlit's static shell
    assert page.headers["content-type"].startswith("text/html")
    assert "pull_interval" not in page.text and "admin" not in page.text.lower().split("<body")[-1]
    assert os.environ["MONITOR_DB_KEY"] not in client.get("/_stcore/host-config").text
