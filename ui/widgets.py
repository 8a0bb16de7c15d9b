"""Shared page widgets: time ranges, source filter, tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.views.common import SOURCE_LABELS, TimeRange

PRESETS = {"24 hours": 1.0, "7 days": 7.0, "30 days": 30.0, "90 days": 90.0}


def ceil_minute(moment: datetime) -> datetime:
    """Round up so that repeated renders share one cache key for a minute."""
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def time_range(monitor: Monitor, key: str, default: str = "7 days") -> TimeRange:
    """A preset or custom UTC range; ends at the current minute."""
    options = [*PRESETS, "custom"]
    choice = st.segmented_control("Range", options, default=default, key=f"{key}_preset") or default
    now = ceil_minute(monitor.clock())
    if choice != "custom":
        return TimeRange.last(now, PRESETS[choice])
    picked = st.date_input("Dates (UTC)", value=((now - timedelta(days=7)).date(), now.date()),
                           key=f"{key}_dates")
    if not isinstance(picked, Sequence) or len(picked) != 2:
        st.info("Pick a start and an end date.")
        st.stop()
    try:
        return TimeRange(datetime.combine(picked[0], time.min, UTC),
                         min(datetime.combine(picked[1], time.min, UTC) + timedelta(days=1), now))
    except ValidationError as exc:
        st.error(str(exc))
        st.stop()
        raise


def source_filter(monitor: Monitor, key: str) -> tuple[str, ...]:
    """Which sources to show; defaults to what drift analysis uses (real, or simulated in demo)."""
    chosen = st.multiselect("Sources", list(SOURCE_LABELS), default=list(monitor.analysis_sources),
                            format_func=SOURCE_LABELS.__getitem__, key=f"{key}_sources")
    if not chosen:
        st.info("Pick at least one source.")
        st.stop()
    return tuple(chosen)


def table(rows: Sequence[dict[str, Any]], empty: str, height: int | None = None, key: str | None = None
          ) -> None:
    """A read-only table, or a short sentence when there is nothing to show."""
    if not rows:
        st.caption(empty)
        return
    frame = pd.DataFrame(list(rows))
    for column in frame.columns:  # UTC times, minutes are enough: keeps tables narrow
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M")
    st.dataframe(frame, hide_index=True, width="stretch", height=height or "auto", key=key)


def stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def short(moment: datetime | None) -> str:
    """Month-day hour:minute, for metric tiles (the label says UTC)."""
    return moment.strftime("%b %d, %H:%M") if moment else "—"
