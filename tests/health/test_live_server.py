"""The product as operators start it: ``python -m streamlit run app.py`` answers /health."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_streamlit_run_answers_health_with_json_on_a_fresh_data_dir(env, tmp_path: Path) -> None:
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "AZURE_ML_"))}
    environ.update(env, MONITOR_DATA_DIR=str(tmp_path / "fresh"))
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    started = time.monotonic()
    answer = None
    try:
        while time.monotonic() - started < 60 and server.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # listening before the lifespan ran
                time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert answer is not None, (tmp_path / "server.log").read_text()[-2000:]
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert answer.json()["status"] in ("healthy", "degraded")
        assert answer.headers["cache-control"] == "no-store"
        print(f"\nstreamlit run: /health 200 after {elapsed:.1f} s")
    finally:
        server.terminate()  # SIGTERM, as App Service stops a container
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            code = server.wait(timeout=5)
        log.close()
    assert code in (0, -15), (tmp_path / "server.log").read_text()[-2000:]
    assert env["MONITOR_DB_KEY"] not in (tmp_path / "server.log").read_text()
