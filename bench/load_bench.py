"""Load: concurrent /health clients (and, optionally, logged-in browser sessions) while cycles run.

Starts the real app on loopback (demo mode, a fresh data dir), waits for /health, then:
  * runs pull cycles back to back in a second process on the same store (the scheduler's
    own work, so the server's database sees concurrent writes), and
  * hammers GET /health from --clients threads for --seconds seconds,
  * optionally drives --browsers logged-in Chromium sessions through the pages
    (needs the dashboard and /usr/bin/chromium),
then prints p50/p95/p99 latency of /health and any page errors. Loopback only, bounded.
Run: .venv/bin/python bench/load_bench.py [--clients 50] [--seconds 20] [--browsers 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-bench-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not answer /health within 90 s")


CYCLES = """
import sys
from datetime import UTC, datetime, timedelta
from monitoring.context import open_monitor
from monitoring.lifecycle import build_pipeline
from monitoring.mock import MockProfile
from monitoring.sources import MockSource
m = open_monitor(bootstrap_admin=False)
p = build_pipeline(m, MockSource(MockProfile(rows_per_pull=2000)))
t = datetime(2030, 1, 1, tzinfo=UTC)
for i in range(int(sys.argv[1])):
    p.run_cycle(t + timedelta(hours=i), "manual")
print("cycles done", flush=True)
"""


def hammer(url: str, stop: threading.Event, out: list[float], errors: list[str]) -> None:
    session = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = session.get(url, timeout=5)
            if response.status_code != 200:
                errors.append(f"HTTP {response.status_code}")
        except requests.RequestException as exc:
            errors.append(type(exc).__name__)
        out.append((time.perf_counter() - started) * 1000)


def browse(base: str, stop: threading.Event, errors: list[str], index: int) -> None:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(f"browser {index}: {exc}"))
        page.goto(base)
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_timeout(2000)
        pages = ["alerts", "history", "drift", "metrics", "settings"]
        i = 0
        while not stop.is_set():
            page.goto(f"{base}/{pages[i % len(pages)]}")
            page.wait_for_timeout(1500)
            if page.get_by_text("Traceback").count():
                errors.append(f"browser {index}: a traceback on {pages[i % len(pages)]}")
            i += 1
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--browsers", type=int, default=0)
    parser.add_argument("--cycles", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MONITOR_DATA_DIR": tmp, "MONITOR_DB_KEY": secrets.token_hex(32),
               "MONITOR_ADMIN_PASSWORD": PASSWORD, "LOG_LEVEL": "WARNING"}
        port = free_port()
        server = start_server(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            cycles = subprocess.Popen([sys.executable, "-c", CYCLES, str(args.cycles)], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            stop = threading.Event()
            latencies: list[float] = []
            errors: list[str] = []
            wrk = shutil.which("wrk")
            wrk_proc = None
            if wrk:  # a C load generator, so the clients do not compete with the server for the GIL
                wrk_proc = subprocess.Popen([wrk, "-t2", f"-c{args.clients}", f"-d{int(args.seconds)}s",
                                             "--latency", f"{base}/health"], stdout=subprocess.PIPE,
                                            text=True)
                threads = []
            else:
                threads = [threading.Thread(target=hammer, args=(f"{base}/health", stop, latencies,
                                                                 errors)) for _ in range(args.clients)]
            threads += [threading.Thread(target=browse, args=(base, stop, errors, i))
                        for i in range(args.browsers)]
            for thread in threads:
                thread.start()
            time.sleep(args.seconds)  # the measurement window (this is a benchmark, not a test)
            stop.set()
            wrk_out = wrk_proc.communicate(timeout=60)[0] if wrk_proc else ""
            for thread in threads:
                thread.join(timeout=60)
            cycles_running = cycles.poll() is None
            cycles.kill()
        finally:
            server.terminate()
            server.wait(timeout=30)
    state = "still running" if cycles_running else "finished"
    if wrk_out:
        print(f"/health under load: wrk, {args.clients} connections for {args.seconds:g} s while pull cycles "
              f"ran ({state}); closed loop, so latency = connections / throughput")
        print("\n".join(line for line in wrk_out.splitlines()
                        if line.strip().startswith(("50%", "75%", "90%", "99%", "Requests/sec", "Non-2xx"))))
        print("(goal p95 < 50 ms: wrk reports p90 and p99; p95 lies between them)")
    else:
        qs = statistics.quantiles(latencies, n=100)
        print(f"/health under load: {len(latencies):,} requests from {args.clients} Python clients in "
              f"{args.seconds:g} s while pull cycles ran ({state})")
        print(f"latency ms: p50 {qs[49]:.1f}  p95 {qs[94]:.1f}  p99 {qs[98]:.1f}  max {max(latencies):.1f} "
              f"(goal p95 < 50 ms)")
    print(f"browser sessions: {args.browsers}; errors: {len(errors)} {sorted(set(errors))[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
