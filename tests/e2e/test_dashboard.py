"""The dashboard in chromium against the real server: login gate, every page, a settings change,
an acknowledgement, logout. Each test has its own browser context, so no cookie carries over.

Tests share one server and store; each writes something only it reads (the lockout uses its
own user, the settings test its own value), so their order does not matter.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    LOCKOUT_PASSWORD,
    LOCKOUT_USER,
    log_in,
    open_app,
    rerun,
    screenshot,
    settle,
    submit_login,
    wait_runs,
)
from tests.support import seeded

pytestmark = pytest.mark.e2e

PAGES = ("Alerts", "History", "Drift", "Metrics", "Settings")
WRONG = "Username or password is incorrect."
FALSE_ALARMS = "False-alarm budget (per field per 30 days)"
ACK_TARGET = "critical · Distribution changed: archived_gb_predicted"


def _go(page: Page, name: str) -> None:
    """Click a page in the sidebar navigation and wait until it has rendered."""
    rerun(page, page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click)
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    settle(page)


def _no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _error(page: Page) -> str:
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_have_count(1)
    return alert.inner_text()


def _table(scope: Page | Locator, header: str) -> Locator:
    """The (accessible) table of the dataframe that has a column named ``header``."""
    page = scope if isinstance(scope, Page) else scope.page  # ``has`` is matched inside each frame
    column = page.locator("th", has_text=re.compile(rf"^{re.escape(header)}$"))
    return scope.get_by_test_id("stDataFrame").filter(has=column).locator("table")


def _view_count(page: Page, view: str) -> int:
    """The number in a segmented-control option such as 'Acknowledged (2)'."""
    button = page.get_by_role("radio", name=re.compile(rf"^{view} \(\d+\)$"))
    return int(re.search(r"\((\d+)\)", button.inner_text()).group(1))


def test_the_login_form_comes_first_and_nothing_else(page: Page) -> None:
    open_app(page)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    for hidden in ("stSidebar", "stSidebarNav", "stDataFrame", "stPlotlyChart", "stMetric", "stException"):
        expect(page.get_by_test_id(hidden)).to_have_count(0)
    expect(page.get_by_role("heading", name="Alerts")).to_have_count(0)
    screenshot(page, "login")


def test_a_wrong_password_is_refused(page: Page) -> None:
    open_app(page)
    submit_login(page, seeded.ADMIN, "not-the-admin-password")
    assert _error(page) == WRONG
    expect(page.get_by_role("heading", name="Prediction Monitor")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)


def test_five_failures_lock_the_account_even_for_the_right_password(page: Page) -> None:
    open_app(page)
    for _ in range(4):
        submit_login(page, LOCKOUT_USER, "wrong-password-attempt")
        assert _error(page) == WRONG
    submit_login(page, LOCKOUT_USER, "wrong-password-attempt")
    assert "This account is locked after 5 failed logins" in _error(page)
    submit_login(page, LOCKOUT_USER, LOCKOUT_PASSWORD)
    assert "locked" in _error(page)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)


def test_admin_visits_every_page(page: Page) -> None:
    log_in(page)
    _no_exception(page)
    screenshot(page, "alerts")
    for name in (*PAGES[1:], PAGES[0]):
        _go(page, name)
        _no_exception(page)
        expect(page.get_by_role("heading", level=1)).to_have_text([name])
        screenshot(page, name.lower())


def test_admin_changes_a_threshold_audited_and_kept_after_reload(page: Page) -> None:
    log_in(page)
    _go(page, "Settings")
    field = page.get_by_role("spinbutton", name=FALSE_ALARMS)
    expect(field).to_have_value("1")
    field.fill("3.5")
    rerun(page, page.get_by_role("button", name="Save", exact=True).click)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text(
        "Saved: false_alarms_per_30d (audited).")
    page.get_by_role("tab", name="Audit log").click()
    row = _table(page.get_by_role("tabpanel", name="Audit log"), "who").locator(
        "tr", has_text="false_alarms_per_30d")
    expect(row).to_have_count(1)
    for text in ("admin", "settings.update", "1.0", "3.5"):
        expect(row).to_contain_text(text)
    screenshot(page, "settings-audit")
    page.reload()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    settle(page)
    expect(page.get_by_role("spinbutton", name=FALSE_ALARMS)).to_have_value("3.5")
    _no_exception(page)


def test_acknowledging_the_critical_alert(page: Page) -> None:
    log_in(page)
    acknowledged = _view_count(page, "Acknowledged")
    page.locator(".st-key-alert_pick").click()  # opens the list; no rerun yet
    option = page.get_by_role("option", name=re.compile(re.escape(ACK_TARGET)))
    alert_id = re.match(r"#(\d+)", option.inner_text()).group(1)
    rerun(page, option.click)
    expect(page.get_by_role("heading", name=f"#{alert_id} Distribution changed")).to_be_visible()
    comment = "e2e: archive volume jump checked with the data team"
    page.get_by_role("textbox", name="Comment").fill(comment)
    rerun(page, page.get_by_role("button", name="Acknowledge", exact=True).click)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text(f"Alert #{alert_id}: acknowledged.")
    expect(page.get_by_role("radio", name=f"Acknowledged ({acknowledged + 1})")).to_be_visible()

    rerun(page, page.get_by_role("radio", name=f"Acknowledged ({acknowledged + 1})").click)
    expect(_table(page, "severity")).to_contain_text("Distribution changed: archived_gb_predicted")
    if acknowledged:  # another acknowledged alert may be picked first: pick ours
        page.locator(".st-key-alert_pick").click()
        rerun(page, page.get_by_role("option", name=re.compile(rf"^#{alert_id} ")).click)
    expect(page.get_by_role("heading", name=f"#{alert_id} Distribution changed")).to_be_visible()
    row = _table(page, "who").locator("tr", has_text="acknowledged")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(comment)
    expect(row).to_contain_text("admin")
    _no_exception(page)
    screenshot(page, "alerts-acknowledged")


def test_logout_ends_the_session_and_a_reload_stays_logged_out(page: Page) -> None:
    log_in(page)
    page.wait_for_function("() => document.cookie.includes('prediction_monitor_session=')")
    page.reload()  # the cookie logs in: this is what logout must undo
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    settle(page)

    copied = [c for c in page.context.cookies() if c["name"] == "prediction_monitor_session"]
    assert copied
    rerun(page, page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click)
    expect(page.get_by_role("heading", name="Prediction Monitor")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    page.wait_for_function("() => !document.cookie.includes('prediction_monitor_session=')")
    # The cookie component reports the deletion with a second run; the notice must outlive it.
    wait_runs(page, 2)
    expect(page.get_by_test_id("stAlertContentInfo")).to_have_text("You are logged out.")
    screenshot(page, "logged-out")
    page.reload()
    expect(page.get_by_role("heading", name="Prediction Monitor")).to_be_visible()
    settle(page)
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_role("heading", name="Alerts")).to_have_count(0)
    # Logout revokes the cookie on the server: a copy of it kept elsewhere no longer logs in.
    page.context.add_cookies(copied)
    page.reload()
    expect(page.get_by_role("heading", name="Prediction Monitor")).to_be_visible()
    settle(page)
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_role("heading", name="Alerts")).to_have_count(0)
