"""``/metrics`` in the Prometheus text format, for teams that scrape."""

from __future__ import annotations

from typing import Any

from monitoring.store import Alerts, Predictions, Pulls


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{k}="{str(v).replace(chr(34), "")}"' for k, v in sorted(labels.items()))
        return f"{name}{{{inner}}} {value}"
    return f"{name} {value}"


def render(background: Any) -> str:
    """Counters and gauges read from the store and the process."""
    monitor = background.monitor
    health = background.health.cached()
    lines = ["# TYPE prediction_monitor_up gauge", _line("prediction_monitor_up", 1)]
    if health is not None:
        lines += ["# TYPE prediction_monitor_health gauge"]
        for state in ("healthy", "degraded", "unhealthy"):
            lines.append(_line("prediction_monitor_health", float(health.status == state),
                               {"state": state}))
    with monitor.store.read() as conn:
        counts = Predictions(conn).count_by_source()
        alerts = Alerts(conn).counts()
        latest = Pulls(conn).latest()
        failures = Pulls(conn).consecutive_failures()
    lines.append("# TYPE prediction_monitor_rows gauge")
    lines += [_line("prediction_monitor_rows", n, {"source": s}) for s, n in sorted(counts.items())]
    lines.append("# TYPE prediction_monitor_alerts gauge")
    lines += [_line("prediction_monitor_alerts", n, {"status": s}) for s, n in sorted(alerts.items())]
    lines.append("# TYPE prediction_monitor_consecutive_pull_failures gauge")
    lines.append(_line("prediction_monitor_consecutive_pull_failures", failures))
    if latest is not None and latest.latency_ms is not None:
        lines.append("# TYPE prediction_monitor_last_pull_latency_ms gauge")
        lines.append(_line("prediction_monitor_last_pull_latency_ms", latest.latency_ms,
                           {"outcome": latest.outcome}))
    breaker = background.pipeline.breaker_state()
    if breaker:
        lines.append("# TYPE prediction_monitor_breaker_open gauge")
        lines.append(_line("prediction_monitor_breaker_open", float(breaker == "open")))
    return "\n".join(lines) + "\n"
