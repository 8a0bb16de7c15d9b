"""Sidebar: health badge, data-source banner, who is logged in, logout."""

from __future__ import annotations

import streamlit as st

from monitoring.actors import Actor
from monitoring.context import Monitor
from ui import auth, queries

BADGES = {"healthy": ("green", ":material/check_circle:"), "degraded": ("orange", ":material/warning:"),
          "unhealthy": ("red", ":material/error:")}


def render(monitor: Monitor, actor: Actor) -> None:
    with st.sidebar:
        status = queries.health(monitor)
        color, icon = BADGES.get(status["status"], ("gray", ":material/help:"))
        st.badge(status["status"].capitalize(), icon=icon, color=color)
        problems = [c for c in status["checks"] if c["status"] != "healthy"]
        for check in problems:
            st.caption(f"{check['name']}: {check['detail']}")
        source = queries.data_source(monitor)
        if source["kind"] in ("demo", "fallback"):
            st.warning(source["message"], icon=":material/science:")
        elif source["kind"] in ("stale", "waiting"):
            st.error(source["message"], icon=":material/schedule:")
        else:
            st.caption(source["message"])
        st.divider()
        st.caption(f"Logged in as **{actor.username}** ({actor.role})")
        st.button("Log out", key="pm_logout_button", on_click=auth.request_logout, width="stretch")
