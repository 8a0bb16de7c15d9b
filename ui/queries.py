"""Cached page queries: ``st.cache_data`` with a TTL over ``monitoring.views``; cleared on writes.

Results are keyed by the store's path as well as the arguments, so two monitors in one
process (tests) never see each other's data. Writes go through ``after_write`` so the
next render reads fresh rows instead of waiting out the TTL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from monitoring.context import Monitor
from monitoring.views import alerts, drift, history, ops, status
from ui.session import db_id
from ui.session import monitor as current_monitor

T = TypeVar("T")
TTL_SECONDS = 30


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=512)
def _run(name: str, db: str, args: tuple, kwargs: tuple) -> Any:
    """One cache for every query; ``name`` and ``db`` keep entries of different queries apart."""
    return _QUERIES[name](current_monitor(), *args, **dict(kwargs))


def _cached(fn: Callable[..., T]) -> Callable[..., T]:
    name = f"{fn.__module__}.{fn.__qualname__}"
    _QUERIES[name] = fn

    @functools.wraps(fn)
    def call(monitor: Monitor, *args: Any, **kwargs: Any) -> T:
        return _run(name, db_id(monitor), args, tuple(sorted(kwargs.items())))
    return call


_QUERIES: dict[str, Callable[..., Any]] = {}


def after_write() -> None:
    """Forget cached query results (call after any write a page makes)."""
    _run.clear()


def _health(monitor: Monitor) -> dict[str, Any]:
    return status.health(monitor).to_dict()


def _data_source(monitor: Monitor) -> dict[str, str]:
    found = status.data_source(monitor)
    return {"kind": found.kind, "message": found.message}


health = _cached(_health)
data_source = _cached(_data_source)
monitored_fields = _cached(history.monitored_fields)
series = _cached(history.series)
rejected = _cached(history.rejected)
pulls = _cached(history.pulls)
list_alerts = _cached(alerts.list_alerts)
alert_counts = _cached(alerts.counts)
alert_detail = _cached(alerts.detail)
drift_overview = _cached(drift.overview)
distributions = _cached(drift.distributions)
run_history = _cached(drift.run_history)
references = _cached(drift.references)
pull_latency = _cached(ops.pull_latency)
outcomes = _cached(ops.outcomes)
op_summary = _cached(ops.op_summary)
store_facts = _cached(ops.store_facts)
schedule = _cached(ops.schedule)
