"""The process's monitor and the logged-in actor, as pages see them."""

from __future__ import annotations

import streamlit as st

from monitoring import context
from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.errors import MonitoringError

ACTOR_KEY = "pm_actor"


def monitor() -> Monitor:
    """The process-wide monitor (opened by app.py's lifespan); a clear message if unusable."""
    try:
        return context.current()
    except MonitoringError as exc:
        st.error(f"The monitor cannot open its store: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


def actor() -> Actor:
    """The logged-in user; pages run only after dashboard.py's gate set it."""
    found = st.session_state.get(ACTOR_KEY)
    if not isinstance(found, Actor):
        st.error("Please log in.")
        st.stop()
    return found


def db_id(m: Monitor) -> str:
    """Cache key part that tells monitors (stores) apart within one process."""
    return str(m.store.path.resolve())
