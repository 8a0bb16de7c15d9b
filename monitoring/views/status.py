"""The sidebar's facts: health, and where the data on screen comes from."""

from __future__ import annotations

from dataclasses import dataclass

from health.checker import HealthChecker, HealthStatus
from monitoring.context import Monitor
from monitoring.store import Pulls
from monitoring.timeutil import from_ms, iso


def health(monitor: Monitor) -> HealthStatus:
    """This process's cached health when the scheduler runs here, else a fresh check."""
    from monitoring import lifecycle

    background = lifecycle.running()
    if background is not None and getattr(background, "monitor", None) is monitor:
        return background.health.cached() or background.health.fresh()
    return HealthChecker(monitor).check()


@dataclass(frozen=True)
class SourceStatus:
    kind: str  # demo | fallback | stale | live | waiting
    message: str


def data_source(monitor: Monitor) -> SourceStatus:
    """Say plainly whether charts show real, simulated or stale data."""
    if monitor.config.demo_mode:
        return SourceStatus("demo", "Simulated data: no endpoint is configured (demo mode). "
                                    "Every row shown is generated.")
    with monitor.store.read() as conn:
        pulls = Pulls(conn)
        latest = pulls.latest()
        last_ok = pulls.last_success_at()
    if latest is None:
        return SourceStatus("waiting", "Waiting for the first pull from the endpoint.")
    since = f"since {iso(from_ms(last_ok))}" if last_ok else "since the start (no pull has succeeded)"
    if latest.outcome == "fallback":
        return SourceStatus("fallback", f"Endpoint failing {since}: new rows are simulated, labelled "
                                        "as such and never analysed.")
    if latest.outcome == "failed":
        return SourceStatus("stale", f"Stale {since}: the last pull failed ({latest.error or 'no rows'}).")
    return SourceStatus("live", f"Live data; last pull {iso(from_ms(latest.started_at))}.")
