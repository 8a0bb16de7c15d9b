"""The login gate: our user store decides, streamlit-authenticator keeps the session.

Why not the library's own login widget: its lockout counter lives in the credentials
dict (lost on restart, never expires) and it checks the password before anyone can
look at the username. So the form is ours and calls ``UserService.login`` (lockout
first, bcrypt, failures persisted); on success the library's controller fills its
session state and writes its signed JWT cookie (``AUTH_COOKIE_KEY``, expiry from the
settings). Every run re-checks the user against the store, so a password reset, a
role change or a disable ends live sessions, and a cookie issued before that is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st
import streamlit_authenticator as stauth

from monitoring.actors import Actor
from monitoring.auth import UserService
from monitoring.context import Monitor
from monitoring.store import User
from ui.session import ACTOR_KEY

COOKIE_NAME = "prediction_monitor_session"
VERSION_KEY = "pm_session_version"
LOGOUT_KEY = "pm_logging_out"
NOTICE_KEY = "pm_login_notice"
COOKIE_EXP_KEY = "pm_cookie_expires"  # identifies this session's login cookie for revocation


def _authenticator(users: list[User], cookie_key: str, expiry_days: float) -> stauth.Authenticate:
    """The library object for this run; its credentials carry no password hashes at all."""
    credentials = {"usernames": {u.username: {"name": u.display_name, "email": u.email or None,
                                              "roles": [u.role]}
                                 for u in users if not u.disabled}}
    return stauth.Authenticate(credentials, COOKIE_NAME, cookie_key, expiry_days, auto_hash=False)


def _actor(user: User) -> Actor:
    actor = Actor(user.username, user.role)
    st.session_state[ACTOR_KEY] = actor
    return actor


def _forget(notice: str | None) -> None:
    for key in (ACTOR_KEY, VERSION_KEY, COOKIE_EXP_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice


def request_logout() -> None:
    """Logout button callback: the next run clears the session and deletes the cookie."""
    st.session_state[LOGOUT_KEY] = True


def gate(monitor: Monitor) -> Actor | None:
    """The logged-in actor, or None after drawing the login form (nothing else is drawn)."""
    service = monitor.user_service()
    expiry_days = float(monitor.settings.effective()["cookie_expiry_days"])
    assert monitor.cookie_key is not None
    auth = _authenticator(service.list(), monitor.cookie_key.reveal(), expiry_days)
    state = st.session_state
    if state.pop(LOGOUT_KEY, False):
        if state.get("username") and state.get(COOKIE_EXP_KEY):
            service.revoke_cookie(state["username"], state[COOKIE_EXP_KEY])
        if state.get("authentication_status"):
            auth.logout(location="unrendered")  # clears the library's state, deletes the cookie
        _forget("You are logged out.")
    elif state.get("authentication_status") and state.get("username"):
        user = service.session_ok(state["username"], state.get(VERSION_KEY))
        if user is not None:
            return _actor(user)
        auth.logout(location="unrendered")
        _forget("Your session has ended (password reset, role change or account disabled); "
                "log in again.")
    elif not state.get("logout"):
        token = auth.cookie_controller.get_cookie()
        if token:
            issued = datetime.fromtimestamp(float(token["exp_date"]), UTC) - timedelta(days=expiry_days)
            user = service.session_ok(str(token["username"]), issued_at=issued,
                                      expires_at=float(token["exp_date"]))
            if user is not None:
                auth.authentication_controller.login(token=token)
                state[VERSION_KEY] = user.session_version
                state[COOKIE_EXP_KEY] = float(token["exp_date"])
                return _actor(user)
            auth.cookie_controller.delete_cookie()
    return _login_form(service, auth)


def _login_form(service: UserService, auth: stauth.Authenticate) -> Actor | None:
    box = st.empty()
    with box.container():
        st.title("Prediction Monitor")
        # Kept until the next submit: deleting the cookie reruns the script at once, and a
        # notice popped on the first run would vanish a moment after it was drawn.
        notice_slot = st.empty()
        notice = st.session_state.get(NOTICE_KEY)
        if notice:
            notice_slot.info(notice)
        with st.form("login", clear_on_submit=False):
            st.subheader("Log in")
            username = st.text_input("Username", key="login_username", autocomplete="username")
            password = st.text_input("Password", type="password", key="login_password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("Log in", type="primary")
        if not submitted:
            return None
        st.session_state.pop(NOTICE_KEY, None)
        notice_slot.empty()
        result = service.login(username, password)
        if not result.ok or result.user is None:
            st.error(result.message)
            return None
    box.empty()
    st.session_state["logout"] = None
    auth.authentication_controller.login(token={"username": result.user.username})
    st.session_state[VERSION_KEY] = result.user.session_version
    auth.cookie_controller.set_cookie()  # rendered in this run, so the browser stores it
    st.session_state[COOKIE_EXP_KEY] = auth.cookie_controller.cookie_model.exp_date
    return _actor(result.user)
