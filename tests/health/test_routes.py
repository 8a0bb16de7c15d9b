"""/health, /health/ready and /metrics through the real ASGI app (``app.app``, an st.App)
with its lifespan: the store opens and the scheduler runs in a temporary data dir.

Streamlit's Runtime cannot start twice in one process, so each start runs in a fresh
interpreter (tests/support/app_worker.py drives Starlette's TestClient there); the
scoring endpoint is the real loopback fake in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitoring.actors import Actor
from monitoring.config import load_config
from monitoring.context import open_monitor
from tests.conftest import ADMIN_PASSWORD, COOKIE_KEY
from tests.fakes.azureml_server import DEFAULT_API_KEY, Reply
from tests.support.secret_scan import TELEMETRY_DIR

ROOT = Path(__file__).resolve().parents[2]


def _serve(scenario: str, environ: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """Run one app scenario in a fresh process; check every body and log line for secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "AZURE_ML_",
                                                                     "APPLICATIONINSIGHTS"))}
    env.update(environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "tests.support.app_worker", scenario], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)
    TELEMETRY_DIR.mkdir(parents=True, exist_ok=True)  # the session's secret scan reads these too
    (TELEMETRY_DIR / f"health-app-{scenario}.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    secrets = [v for k, v in environ.items() if "KEY" in k or "PASSWORD" in k]
    secrets += [ADMIN_PASSWORD, COOKIE_KEY, DEFAULT_API_KEY]
    for response in result["responses"]:
        leaked = [s[:4] + "..." for s in secrets if s in response["body"]]
        assert not leaked, f"{response['path']} answered with a secret: {leaked}"
        assert not response["cookies"], "a public route set a cookie"
    assert not [s[:4] for s in secrets if s in done.stderr], "a secret reached the app's logs"
    return result


def _answers(result: dict[str, Any], path: str) -> list[tuple[int, Any]]:
    out = []
    for r in result["responses"]:
        if r["path"] == path:
            body = json.loads(r["body"]) if r["body"].startswith("{") else r["body"]
            out.append((r["status"], body))
    return out


def _named(body: dict, name: str) -> dict:
    (check,) = [c for c in body["checks"] if c["name"] == name]
    return check


@pytest.fixture
def endpoint_env(env: dict[str, str], fake_azureml) -> dict[str, str]:
    """An endpoint at the fake server; the admin saved one attempt per pull (fast test)."""
    environ = {**env, **fake_azureml.env()}
    monitor = open_monitor(load_config(environ))
    try:
        monitor.settings.update(Actor("admin", "admin"), {"retry_max_attempts": 1,
                                                          "endpoint_timeout_seconds": 2})
    finally:
        monitor.close()
    return environ


def test_a_fresh_demo_start_is_healthy(env) -> None:
    result = _serve("fresh_demo", env)
    ((code, ping),) = _answers(result, "/health")
    assert (code, ping["status"]) == (200, "healthy")
    ((code, ready),) = _answers(result, "/health/ready")
    assert (code, ready["status"]) == (200, "healthy")
    assert {c["name"] for c in ready["checks"]} == {"database", "scheduler", "endpoint", "resources",
                                                     "telemetry"}
    ((_, probed),) = _answers(result, "/health/ready?probe=1")
    probe = _named(probed, "endpoint_probe")
    assert probe["status"] == "healthy" and "no endpoint is configured" in probe["detail"]


def test_a_failing_endpoint_with_fallback_is_200_degraded_and_pings_never_call_it(
        endpoint_env, fake_azureml) -> None:
    fake_azureml.default = Reply.error(503, "model container restarting")
    result = _serve("failing_endpoint", endpoint_env)
    assert result["figures"]["fell_back"], "the first pull never finished"
    code, ready = _answers(result, "/health/ready")[-1]
    assert (code, ready["status"]) == (200, "degraded")
    endpoint = _named(ready, "endpoint")
    assert endpoint["status"] == "degraded" and "fallback is labelled simulated" in endpoint["detail"]
    ((code, ping),) = _answers(result, "/health")
    assert (code, ping["status"]) == (200, "degraded")
    (_, first), (_, second) = _answers(result, "/health/ready?probe=1")
    probe = _named(first, "endpoint_probe")
    assert probe["status"] == "degraded" and probe["data"]["status_code"] == 503
    assert probe["data"]["attempts"] == 1
    assert _named(second, "endpoint_probe")["detail"].endswith("(cached; rate-limited)")
    # one scheduled pull + one probe; the many pings and ready checks called nothing
    assert fake_azureml.request_count == 2


def test_a_dead_scheduler_is_503_unhealthy(endpoint_env) -> None:
    result = _serve("dead_scheduler", endpoint_env)
    assert result["figures"]["ran"]
    code, ready = _answers(result, "/health/ready")[-1]
    assert (code, ready["status"]) == (503, "unhealthy")
    assert _named(ready, "scheduler")["detail"] == "the scheduler thread is not running"
    ((code, ping),) = _answers(result, "/health")
    assert (code, ping["status"]) == (503, "unhealthy")


def test_a_store_that_cannot_be_opened_is_503_with_the_reason(env, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")
    result = _serve("store_unavailable", {**env, "MONITOR_DATA_DIR": str(blocker / "data")})
    assert result["figures"]["waiting"] == "Waiting"
    ((code, ping),) = _answers(result, "/health")
    assert (code, ping["status"]) == (503, "unhealthy")
    ((code, ready),) = _answers(result, "/health/ready")
    assert code == 503 and "cannot be opened" in _named(ready, "database")["detail"]


def test_metrics_answer_without_a_login_and_hold_no_secret(endpoint_env) -> None:
    result = _serve("metrics", endpoint_env)  # _serve checks bodies for secrets and cookies
    assert result["figures"]["pulled"]
    code, text = _answers(result, "/metrics")[-1]
    assert code == 200 and "prediction_monitor_up 1" in text
    assert 'prediction_monitor_rows{source="azure_ml"} 20' in text
    assert 'prediction_monitor_health{state="healthy"}' in text


def test_health_p95_stays_under_50_ms_while_cycles_run(env) -> None:
    """Demo start: the backfill runs in the scheduler thread and more cycles in another."""
    figures = _serve("latency", env)["figures"]
    print(f"\n/health over 200 pings: p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms; {figures['cycles']} concurrent cycle(s), median "
          f"{figures['cycle_median_ms']:.0f} ms; app start {figures['start_s']:.1f} s, "
          f"stop {figures['stop_s']:.1f} s")
    assert figures["codes"] == [200]
    assert figures["cycles"] >= 2  # cycles really ran during the pings
    assert figures["p95_ms"] < 50.0


def test_liveness_first_answers_health_before_the_app_and_passes_the_rest(monitor) -> None:
    """The middleware st.App runs before Streamlit's own: /health never reaches the app behind."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from health.checker import HealthChecker, Limits
    from health.routes import LivenessFirst
    from health.service import HealthService

    reached: list[str] = []

    async def behind(request):
        reached.append(request.url.path)
        return PlainTextResponse("the app")

    service: list[HealthService | None] = [None]
    app = Starlette(routes=[Route("/{path:path}", behind, methods=["GET", "HEAD", "POST"])],
                    middleware=[Middleware(LivenessFirst, service=lambda: service[0])])
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "starting"}  # before the store is open
        service[0] = HealthService(HealthChecker(monitor, scheduler_alive=lambda: True,
                                                 limits=Limits(memory_percent_degraded=101.0)))
        answer = client.get("/health")
        assert answer.status_code == 200 and answer.json()["status"] == "healthy"
        assert answer.headers["cache-control"] == "no-store"
        head = client.head("/health")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(answer.content))
        assert client.post("/health").text == "the app"  # only GET/HEAD are ours
        assert client.get("/health/ready").text == client.get("/healthz").text == "the app"
        assert reached == ["/health", "/health/ready", "/healthz"]
        first = service[0].liveness()
        assert service[0].liveness()[1] is first[1]  # serialised once per cached status
        unhealthy = HealthService(HealthChecker(monitor, scheduler_alive=lambda: False))
        service[0] = unhealthy
        assert client.get("/health").status_code == 503
