"""Drives the real ASGI app (``app.app``) through Starlette's TestClient in a fresh process.

Streamlit's Runtime is a process singleton that cannot start again once stopped, so each
app scenario of tests/health runs here, in its own interpreter, with the lifespan (store,
scheduler) really starting and stopping. Usage::

    python -m tests.support.app_worker SCENARIO   (environment: MONITOR_DATA_DIR etc.)

The last stdout line is one JSON object: every response (path, status, body) plus figures.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

RESULT: dict[str, Any] = {"responses": [], "figures": {}}


def get(client: TestClient, path: str) -> Any:
    response = client.get(path)
    is_json = response.headers.get("content-type", "").startswith("application/json")
    RESULT["responses"].append({"path": path, "status": response.status_code, "body": response.text,
                                "cookies": dict(response.cookies)})
    return response.json() if is_json else response.text


def checks(body: dict) -> dict[str, dict]:
    return {c["name"]: c for c in body.get("checks", [])}


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def fresh_demo(client: TestClient) -> None:
    get(client, "/health")
    get(client, "/health/ready")
    get(client, "/health/ready?probe=1")


def failing_endpoint(client: TestClient) -> None:
    RESULT["figures"]["fell_back"] = wait_for(
        lambda: checks(get(client, "/health/ready"))["endpoint"]["data"]["last_outcome"] == "fallback")
    get(client, "/health/ready")
    get(client, "/health")
    get(client, "/health/ready?probe=1")
    get(client, "/health/ready?probe=1")


def dead_scheduler(client: TestClient) -> None:
    from monitoring import lifecycle

    RESULT["figures"]["ran"] = wait_for(lambda: checks(get(client, "/health/ready"))["scheduler"]
                                        ["data"]["last_run_at"] is not None)
    lifecycle.running().scheduler.stop(wait=True)
    get(client, "/health/ready")
    get(client, "/health")


def store_unavailable(client: TestClient) -> None:
    from monitoring import lifecycle

    RESULT["figures"]["waiting"] = type(lifecycle.running()).__name__
    get(client, "/health")
    get(client, "/health/ready")


def metrics(client: TestClient) -> None:
    get(client, "/health")  # a cached status makes the health gauge appear
    RESULT["figures"]["pulled"] = wait_for(lambda: "prediction_monitor_rows{" in get(client, "/metrics"))


def latency(client: TestClient) -> None:
    """200 pings while the demo backfill runs in the scheduler thread and cycles in another."""
    from monitoring import lifecycle

    background = lifecycle.running()
    done = threading.Event()
    cycles: list[float] = []

    def run_cycles() -> None:
        moment = background.monitor.clock() + timedelta(days=1)
        while not done.is_set():
            started = time.perf_counter()
            background.pipeline.run_cycle(moment, "manual")
            cycles.append(time.perf_counter() - started)
            moment += timedelta(hours=1)

    worker = threading.Thread(target=run_cycles, name="test-cycles", daemon=True)
    worker.start()
    get(client, "/health")  # the first status; from here on pings read the cache
    latencies, codes = [], set()
    try:
        for _ in range(200):
            started = time.perf_counter()
            response = client.get("/health")
            latencies.append((time.perf_counter() - started) * 1000)
            codes.add(response.status_code)
            RESULT["responses"].append({"path": "/health", "status": response.status_code,
                                        "body": response.text, "cookies": {}})
    finally:
        done.set()
        worker.join(60)
    RESULT["figures"].update(
        p50_ms=statistics.median(latencies), p95_ms=statistics.quantiles(latencies, n=20)[-1],
        max_ms=max(latencies), codes=sorted(codes), cycles=len(cycles),
        cycle_median_ms=statistics.median(cycles) * 1000 if cycles else None)


def public_routes(client: TestClient) -> None:
    """What a client without a login can reach: the app's route table, our routes, a page URL."""
    from starlette.routing import Route, WebSocketRoute

    from app import app

    RESULT["figures"]["routes"] = sorted({r.path for r in app._starlette_app.routes
                                          if isinstance(r, Route | WebSocketRoute)})
    for path in ("/health", "/health/ready", "/metrics", "/settings", "/history", "/_stcore/host-config"):
        get(client, path)
    response = client.post("/_stcore/agent/interact", json={})
    RESULT["responses"].append({"path": "POST /_stcore/agent/interact", "status": response.status_code,
                                "body": response.text, "cookies": dict(response.cookies)})


SCENARIOS = {f.__name__: f for f in (fresh_demo, failing_endpoint, dead_scheduler, store_unavailable,
                                     metrics, latency, public_routes)}


def main(scenario: str) -> None:
    from app import app

    started = time.perf_counter()
    with TestClient(app) as client:
        RESULT["figures"]["start_s"] = time.perf_counter() - started
        SCENARIOS[scenario](client)
        stopping = time.perf_counter()
    RESULT["figures"]["stop_s"] = time.perf_counter() - stopping
    print(json.dumps(RESULT), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
