"""Browser tests: one real server (``streamlit run app.py``) on a seeded store, driven by chromium.

The store is seeded up to the current hour (the server runs on the real clock), so the
app finds mock rows and does not backfill. A second analyst, used only by the lockout
test, is added through the real CLI before the server starts. The server's output goes
to ``test-artifacts/telemetry/e2e-server.log``, which the session's secret scan reads.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.support import secret_scan, seeded

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = secret_scan.ARTIFACTS / "screenshots"
SERVER_LOG = secret_scan.TELEMETRY_DIR / "e2e-server.log"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 2600}  # Streamlit scrolls inside its own container
START_TIMEOUT_S = 90.0
TIMEOUT_MS = 20_000  # the machine is shared: generous, and only ever reached by a failing test
LOCKOUT_USER, LOCKOUT_PASSWORD = "lockme", "lockout-user-pass-e2e"
expect.set_options(timeout=TIMEOUT_MS)
# Environment variables that would take the server out of demo mode or send telemetry out.
_DROP = ("AZURE_ML_", "APPLICATIONINSIGHTS_", "MONITOR_", "AUTH_COOKIE_KEY")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(seeded.env_for(data_dir))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_healthy(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    """Poll /health until it answers 200; fail fast if the server exits, bounded overall."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {SERVER_LOG}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)  # polling a socket for readiness, not waiting for the scheduler
    raise RuntimeError(f"{url} did not answer 200 within {timeout_s:.0f} s (last: {last})")


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded store (ten days up to this hour) plus the lockout-only analyst."""
    import monitoring.auth

    secret_scan.register(seeded.ADMIN_PASSWORD, seeded.ANALYST_PASSWORD, seeded.DB_KEY, seeded.COOKIE_KEY,
                         LOCKOUT_PASSWORD)
    monitoring.auth.BCRYPT_ROUNDS = 4  # session-scoped: the autouse fixture is per test
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    seeded.build(data_dir, now=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    added = subprocess.run([sys.executable, "-m", "monitoring", "users", "add", LOCKOUT_USER, "--role",
                            "analyst", "--password-stdin"], input=LOCKOUT_PASSWORD + "\n", text=True,
                           capture_output=True, cwd=ROOT, env=_server_env(data_dir), timeout=60)
    assert added.returncode == 0, added.stderr
    return data_dir


@pytest.fixture(scope="session")
def server(e2e_data_dir: Path) -> Iterator[str]:
    """The real app on a free loopback port; yields its base URL and stops it at the end."""
    port = _free_port()
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(SERVER_LOG, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/python"), "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=_server_env(e2e_data_dir), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(f"{base}/health", process, START_TIMEOUT_S)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's chromium (no Playwright browser download)."""
    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh context (no cookies) per test, opened on the app."""
    context: BrowserContext = browser.new_context(viewport=VIEWPORT, base_url=server)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    _RUNS[id(tab)] = ScriptRuns(tab)
    yield tab
    context.close()
    _RUNS.pop(id(tab), None)


def screenshot(page: Page, name: str) -> Path:
    """Save the visible (tall) viewport under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def settle(page: Page) -> None:
    """Wait until the script run is over and everything it sent is drawn (charts included)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
                           ".every(c => c.querySelector('.main-svg'))")


class ScriptRuns:
    """Counts the app's finished script runs from its websocket messages.

    Streamlit ends every run with one ``script_finished`` ForwardMsg. Counting those
    (parsed with Streamlit's own protobuf classes) sees every run, however fast: the
    DOM's ``data-test-script-state`` attribute can go running -> notRunning within one
    React render, and a very fast run (a locked account is refused before any bcrypt)
    then never shows as running at all. Fragment runs count (a widget inside a fragment
    reruns only the fragment); runs cut short by a rerun do not (the rerun follows).
    """

    COUNTED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
               ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)

    def __init__(self, page: Page) -> None:
        self.finished = 0
        self.mark = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in self.COUNTED:
            self.finished += 1


_RUNS: dict[int, ScriptRuns] = {}


def rerun(page: Page, action: Callable[[], None]) -> None:
    """Do ``action`` (a click that reruns the script) and wait until that rerun has finished."""
    runs = _RUNS[id(page)]
    runs.mark = runs.finished
    action()
    wait_runs(page, 1)


def wait_runs(page: Page, count: int) -> None:
    """Wait until ``count`` script runs have finished since the last ``rerun`` began, then settle."""
    runs = _RUNS[id(page)]
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while runs.finished - runs.mark < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} script run(s) did not finish within {TIMEOUT_MS} ms "
                                 f"({runs.finished - runs.mark} did)")
        page.wait_for_timeout(20)  # lets Playwright deliver the websocket events; not a scheduler wait
    settle(page)


def open_app(page: Page) -> None:
    """Load the app and wait for the login form."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Prediction Monitor")).to_be_visible()
    settle(page)


def submit_login(page: Page, username: str, password: str) -> None:
    """Fill the login form and submit it; returns when the run the submit caused is over."""
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    rerun(page, page.get_by_role("button", name="Log in", exact=True).click)


def log_in(page: Page, username: str = seeded.ADMIN, password: str = seeded.ADMIN_PASSWORD) -> None:
    """Open the app and log in; the Alerts page (the default) is shown afterwards."""
    open_app(page)
    submit_login(page, username, password)
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    settle(page)
