"""Application Insights: on when APPLICATIONINSIGHTS_CONNECTION_STRING is set.

``start_telemetry(config)`` builds the SDK's ``TelemetryClient`` on a
``TelemetryChannel`` whose queue is bounded and drained by one daemon thread through
``SynchronousSender(<IngestionEndpoint>v2/track)``, subscribes it to
``monitoring.events`` and forwards ERROR log records. ``Telemetry.close(timeout)``
flushes for at most ``timeout`` seconds: telemetry can never hold up a cycle or a
shutdown, whatever the ingestion endpoint does.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from applicationinsights import TelemetryClient
from applicationinsights.channel import SynchronousSender, TelemetryChannel

from monitoring import events
from monitoring.appinsights.channel import BoundedQueue, SenderThread
from monitoring.appinsights.connection import IngestionTarget, parse_connection_string
from monitoring.appinsights.sink import AppInsightsSink, ErrorForwarder, redact_item
from monitoring.config import Config
from monitoring.telemetry import REDACTOR

log = logging.getLogger(__name__)

ROLE = "prediction-monitor"
SEND_TIMEOUT_SECONDS = 5.0
MAX_QUEUE = 2000
CLOSE_TIMEOUT_SECONDS = 3.0

__all__ = ["IngestionTarget", "Telemetry", "build_client", "parse_connection_string",
           "start_telemetry"]


@dataclass
class Telemetry:
    """A running App Insights pipeline: client, bounded queue, sender thread, hooks."""

    target: IngestionTarget
    client: TelemetryClient
    queue: BoundedQueue
    sender: SenderThread
    unsubscribe: Callable[[], None]
    handler: logging.Handler

    def flush(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> bool:
        """Send what is queued, waiting at most ``timeout`` s; True when everything went."""
        return self.sender.flush(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> bool:
        """Stop listening, flush for at most ``timeout`` s and stop the sender thread."""
        self.unsubscribe()
        logging.getLogger().removeHandler(self.handler)
        flushed = self.sender.close(timeout)
        if not flushed:
            log.warning("Application Insights: %d telemetry item(s) not sent at shutdown "
                        "(endpoint unreachable or slow)", self.queue.qsize())
        return flushed

    def stats(self) -> dict[str, Any]:
        return {"endpoint_host": self.target.ingestion_endpoint.split("/")[2], **self.sender.stats()}


def build_client(target: IngestionTarget, *, max_items: int = MAX_QUEUE,
                 send_timeout: float = SEND_TIMEOUT_SECONDS,
                 interval: float = 5.0, max_backoff: float = 60.0
                 ) -> tuple[TelemetryClient, BoundedQueue, SenderThread]:
    """The SDK client on our bounded channel (the sender thread is started)."""
    sender = SynchronousSender(target.track_url)
    sender.send_timeout = send_timeout
    queue = BoundedQueue(sender, max_items=max_items, envelope_key=target.envelope_key)
    with warnings.catch_warnings():  # the SDK's context calls locale.getdefaultlocale (3.11+)
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TelemetryClient(target.instrumentation_key, TelemetryChannel(queue=queue))
    client.context.cloud.role = ROLE
    client.context.cloud.role_instance = os.environ.get("WEBSITE_INSTANCE_ID", socket.gethostname())[:64]
    client.add_telemetry_processor(redact_item)
    return client, queue, SenderThread(queue, interval=interval, max_backoff=max_backoff).start()


def start_telemetry(config: Config, **options: Any) -> Telemetry | None:
    """Start App Insights if configured (None when off); ConfigError on a malformed string."""
    if config.appinsights_connection_string is None:
        return None
    target = parse_connection_string(config.appinsights_connection_string.reveal())
    REDACTOR.add([target.instrumentation_key])
    client, queue, sender = build_client(target, **options)
    handler = ErrorForwarder(client)
    logging.getLogger().addHandler(handler)
    unsubscribe = events.subscribe(AppInsightsSink(client))
    log.info("Application Insights on", extra={"ingestion_host": target.ingestion_endpoint})
    return Telemetry(target, client, queue, sender, unsubscribe, handler)
