"""Page tests: Streamlit's AppTest on dashboard.py over a copy of a seeded demo store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitoring import context
from monitoring.context import Monitor
from tests.support import seeded

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("pages/alerts.py", "pages/history.py", "pages/drift.py", "pages/metrics.py", "pages/settings.py")


@pytest.fixture
def page_monitor(seeded_monitor: Monitor) -> Iterator[Monitor]:
    context.set_current(seeded_monitor)
    yield seeded_monitor
    context.set_current(None)


# AppTest re-enables Streamlit's legacy pages/ discovery on every run when the main script
# sits next to a pages/ folder (app.py switches it off for the server), which would run
# pages without dashboard.py. So the test's main script lives elsewhere and runs dashboard.py.
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'dashboard.py')!r}, run_name='__main__')\n"


def open_page(at: AppTest, page: str) -> AppTest:
    """Switch to ``pages/<name>.py`` (as a user clicking it in the sidebar) and run."""
    return at.switch_page(str(ROOT / page)).run()


@pytest.fixture
def app(page_monitor: Monitor) -> AppTest:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.run()
    return at


def login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button(key="FormSubmitter:login-Log in").click()
    return at.run()


@pytest.fixture
def as_admin(app: AppTest) -> AppTest:
    return login(app, seeded.ADMIN, seeded.ADMIN_PASSWORD)


@pytest.fixture
def as_analyst(app: AppTest) -> AppTest:
    return login(app, seeded.ANALYST, seeded.ANALYST_PASSWORD)
