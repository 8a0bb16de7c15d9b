"""The login gate through AppTest: only the form before login, refusals, lockout, logout, revocation."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from monitoring.actors import SYSTEM
from monitoring.context import Monitor
from tests.pages.conftest import login
from tests.support import seeded


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.error, *at.info, *at.title, *at.subheader)]
    return " ".join(str(p) for p in parts)


def test_nothing_but_the_login_form_renders_before_login(app: AppTest) -> None:
    assert not app.exception
    assert [t.value for t in app.title] == ["Prediction Monitor"]
    assert [w.label for w in app.text_input] == ["Username", "Password"]
    assert not app.sidebar.children or all(not c.children for c in app.sidebar.children.values())
    assert not app.dataframe and not app.get("plotly_chart") and not app.metric
    assert "Alerts" not in _texts(app)


def test_wrong_password_is_refused(app: AppTest) -> None:
    at = login(app, seeded.ADMIN, "not-the-password")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert [t.value for t in at.title] == ["Prediction Monitor"]
    unknown = login(at, "nobody", "whatever-password")
    assert [e.value for e in unknown.error] == ["Username or password is incorrect."]


def test_five_failures_lock_the_account_even_for_the_right_password(app: AppTest, page_monitor: Monitor
                                                                     ) -> None:
    at = app
    for _ in range(5):
        at = login(at, seeded.ANALYST, "wrong-password")
    assert "locked after 5 failed logins" in at.error[0].value
    at = login(at, seeded.ANALYST, seeded.ANALYST_PASSWORD)
    assert "locked" in at.error[0].value  # lockout is checked before the password
    assert page_monitor.users.get(seeded.ANALYST).locked_until is not None


def test_login_shows_the_app_and_logout_returns_to_the_form(as_admin: AppTest) -> None:
    at = as_admin
    assert not at.exception
    assert [t.value for t in at.title] == ["Alerts"]
    assert "Logged in as **admin** (admin)" in [c.value for c in at.sidebar.caption]
    at.sidebar.button(key="pm_logout_button").click().run()
    assert [t.value for t in at.title] == ["Prediction Monitor"]
    assert "You are logged out." in [i.value for i in at.info]


def test_a_password_reset_ends_a_live_session(as_analyst: AppTest, page_monitor: Monitor) -> None:
    page_monitor.users.reset_password(SYSTEM, seeded.ANALYST, "a-brand-new-password")
    at = as_analyst.run()
    assert [t.value for t in at.title] == ["Prediction Monitor"]
    assert any("session has ended" in i.value for i in at.info)
    assert [t.value for t in login(at, seeded.ANALYST, "a-brand-new-password").title] == ["Alerts"]


def test_a_disabled_user_cannot_log_in(app: AppTest, page_monitor: Monitor) -> None:
    page_monitor.users.set_disabled(SYSTEM, seeded.ANALYST, True)
    at = login(app, seeded.ANALYST, seeded.ANALYST_PASSWORD)
    assert "disabled" in at.error[0].value
