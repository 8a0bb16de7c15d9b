"""Product events -> Application Insights items; redaction on the way out.

One subscriber maps each ``monitoring.events`` event to the SDK's item types:
``scoring_call`` -> a RemoteDependency, an event carrying an error -> an Exception,
everything else -> a custom Event, plus Metrics for the numbers dashboards chart
(pull latency, cycle duration, rows stored and rejected). A logging handler forwards
ERROR records (exceptions with their stack, the rest as error traces). Every string
that leaves passes ``REDACTOR`` twice: when the item is built, and again in a
telemetry processor that drops the item if redaction itself fails.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from applicationinsights import TelemetryClient
from applicationinsights.channel import contracts

from monitoring import events
from monitoring.telemetry import REDACTOR, current_context

log = logging.getLogger(__name__)

MAX_PROPERTY = 8192
MAX_NAME = 150
SKIPPED_KINDS = ("backfill", "replay")  # simulated history and throwaway replays are not operations
QUIET_LOGGERS = ("monitoring.appinsights", "applicationinsights", "monitoring.events")
METRICS: Mapping[str, tuple[tuple[str, str], ...]] = {
    events.PULL: (("latency_ms", "pull_latency_ms"), ("rows_stored", "pull_rows_stored"),
                  ("rows_rejected", "pull_rows_rejected")),
    events.CYCLE: (("duration_ms", "cycle_duration_ms"), ("rows_stored", "cycle_rows_stored"),
                   ("rows_rejected", "cycle_rows_rejected")),
    events.DRIFT_CHECK: (("duration_ms", "drift_check_ms"),),
}
METRIC_DIMENSIONS = ("source", "outcome", "field", "kind")


def clean_properties(properties: Mapping[str, Any]) -> dict[str, str]:
    """String properties, redacted by name and content, within the service's size limits."""
    out: dict[str, str] = {}
    for name, value in properties.items():
        if value is None:
            continue
        key = str(name)[:MAX_NAME]
        shown = REDACTOR.value(key, value)
        if isinstance(shown, bool):
            text = "true" if shown else "false"
        else:
            text = shown if isinstance(shown, str) else REDACTOR.text(str(shown))
        out[key] = text[:MAX_PROPERTY]
    return out


def clean_measurements(measurements: Mapping[str, float]) -> dict[str, float]:
    return {str(k)[:MAX_NAME]: float(v) for k, v in measurements.items()
            if isinstance(v, int | float) and math.isfinite(v)}


def redact_item(data: Any, context: Any) -> bool:
    """Telemetry processor: scrub every outgoing item; drop it if scrubbing fails."""
    try:
        properties = getattr(data, "properties", None)
        if properties:
            cleaned = clean_properties(properties)
            properties.clear()
            properties.update(cleaned)
        if isinstance(data, contracts.ExceptionData):
            for details in data.exceptions:
                details.message = REDACTOR.text(details.message or "")[:MAX_PROPERTY]
        elif isinstance(data, contracts.MessageData):
            data.message = REDACTOR.text(data.message or "")[:32768]
        elif isinstance(data, contracts.RemoteDependencyData):
            data.data = REDACTOR.text(data.data or "").split("?", 1)[0]
            data.name = REDACTOR.text(data.name or "").split("?", 1)[0]
        elif isinstance(data, contracts.EventData):
            data.name = REDACTOR.text(data.name or "")[:512]
        return True
    except Exception:  # noqa: BLE001 - better no item than an unscrubbed one
        return False


def _with_traceback(error: BaseException) -> tuple[type[BaseException], BaseException, Any]:
    """The SDK needs a traceback; an exception that was never raised gets a short one."""
    if error.__traceback__ is None:
        try:
            raise error
        except BaseException as raised:  # noqa: BLE001
            return type(raised), raised, raised.__traceback__
    return type(error), error, error.__traceback__


class AppInsightsSink:
    """A ``monitoring.events`` subscriber: events -> App Insights items (enqueue only)."""

    def __init__(self, client: TelemetryClient) -> None:
        self.client = client

    def __call__(self, event: events.Event) -> None:
        props = event.properties
        if props.get("kind") in SKIPPED_KINDS or props.get("cycle_kind") in SKIPPED_KINDS:
            return
        properties = clean_properties(props)
        measurements = clean_measurements(event.measurements)
        if event.error is not None:
            self.client.track_exception(*_with_traceback(event.error),
                                        properties={"event": event.name, **properties},
                                        measurements=measurements or None)
            return
        if event.name == events.SCORING_CALL:
            self._dependency(properties, measurements)
            return
        self.client.track_event(event.name, properties, measurements or None)
        dims = {k: properties[k] for k in METRIC_DIMENSIONS if k in properties}
        for source, metric in METRICS.get(event.name, ()):
            if source in measurements:
                self.client.track_metric(metric, measurements[source], properties=dims or None)

    def _dependency(self, properties: dict[str, str], measurements: dict[str, float]) -> None:
        method = properties.get("method", "POST")
        path = properties.get("path", "/")
        target = properties.get("target", "endpoint")
        scheme = properties.get("scheme", "https")
        if "attempts" in measurements:  # a dimension too: "calls that needed retries" is a filter
            properties["attempts"] = str(int(measurements["attempts"]))
        self.client.track_dependency(
            f"{method} {path}", f"{method} {scheme}://{target}{path}", type="HTTP", target=target,
            duration=int(measurements.get("duration_ms", 0)),
            success=properties.get("success") == "true",
            result_code=properties.get("result_code") or "none",
            properties=properties, measurements=measurements or None)


class ErrorForwarder(logging.Handler):
    """ERROR log records -> App Insights: exceptions with their stack, others as error traces."""

    def __init__(self, client: TelemetryClient) -> None:
        super().__init__(logging.ERROR)
        self.client = client
        self.failures = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(QUIET_LOGGERS):
            return
        try:
            message = REDACTOR.text(record.getMessage())
            properties = clean_properties({**current_context(), "logger": record.name,
                                           "message": message})
            if record.exc_info and record.exc_info[1] is not None:
                self.client.track_exception(*record.exc_info, properties=properties)
            else:
                self.client.track_trace(message, properties, severity=record.levelname)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.failures += 1  # not handleError: it prints the record's raw args to stderr
