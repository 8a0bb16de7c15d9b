"""Server entry: ``streamlit run app.py`` (or ``python -m streamlit run app.py``).

``st.App`` serves the dashboard script plus real Starlette routes (``/health``,
``/health/ready``, ``/metrics``) and runs the lifespan hook once per process: it opens
the encrypted store and starts the scheduler, and stops both on shutdown. Pages never
start background work.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from health.routes import LivenessFirst, health_routes
from monitoring import lifecycle
from monitoring.errors import MonitoringError

log = logging.getLogger("monitoring.app")

# dashboard.py routes with st.navigation, which switches off Streamlit's legacy pages/
# auto-discovery, but only once it has run. Before that first run a URL such as
# /history would execute pages/history.py directly, without the login gate.
PagesManager.uses_pages_directory = False


def _health() -> Any:
    background = lifecycle.running()
    return background.health if background else None


def _metrics() -> str:
    from monitoring.prometheus import render

    background = lifecycle.running()
    return render(background) if isinstance(background, lifecycle.Background) else ""


@asynccontextmanager
async def lifespan(app: st.App) -> AsyncIterator[dict[str, Any]]:
    try:
        await anyio.to_thread.run_sync(lifecycle.start)
    except MonitoringError as exc:
        # One clear line, no traceback: a wrong key or a missing setting cannot fix itself.
        print(f"prediction monitor cannot start: {exc}", file=sys.stderr, flush=True)
        os._exit(2)
    try:
        yield {}
    finally:
        background = lifecycle.running()
        if background is not None:
            await anyio.to_thread.run_sync(background.stop)


# /health is answered by LivenessFirst before Streamlit's middleware (the route stays for
# completeness); /health/ready and /metrics are ordinary routes.
app = st.App("dashboard.py", routes=health_routes(_health, _metrics), lifespan=lifespan,
             middleware=[Middleware(LivenessFirst, service=_health)])
