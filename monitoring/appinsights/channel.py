"""The SDK's channel made safe to use from a scheduler: bounded, batched, never blocking.

applicationinsights 0.11.10 re-queues a failed batch forever and its ``flush()``
loops until the endpoint answers, so with the ingestion endpoint down any caller of
``flush()`` (or a synchronous queue reaching its length) would hang, and the queue
would grow without end. Here the SDK's own ``SynchronousSender`` does the HTTP, but
only from one daemon thread: ``put`` appends to a bounded deque (dropping the oldest,
counted and logged), the sender thread drains it in batches, backs off while the
endpoint fails, and ``flush``/``close`` wait for it with a timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from applicationinsights.channel import QueueBase, SenderBase

log = logging.getLogger(__name__)

ENVELOPE_PREFIX = "Microsoft.ApplicationInsights."
DROP_WARNING_EVERY_SECONDS = 60.0


class BoundedQueue(QueueBase):
    """The SDK queue contract (put/get/flush) over a bounded deque; ``put`` never blocks."""

    def __init__(self, sender: SenderBase, *, max_items: int = 2000, envelope_key: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(sender)
        self.max_items = max(1, max_items)
        self.envelope_key = envelope_key
        self.dropped = 0
        self.wake = threading.Event()
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._capture = threading.local()
        self._monotonic = monotonic
        self._warned_at: float | None = None
        self._warned_count = 0

    def _name(self, envelope: Any) -> None:
        """``Microsoft.ApplicationInsights.Event`` -> ``...<ikey without dashes>.Event``."""
        name = getattr(envelope, "name", None)
        if self.envelope_key and isinstance(name, str) and name.startswith(ENVELOPE_PREFIX):
            kind = name[len(ENVELOPE_PREFIX):]
            if "." not in kind:
                envelope.name = f"{ENVELOPE_PREFIX}{self.envelope_key}.{kind}"

    def put(self, item: Any) -> None:
        if not item:
            return
        captured = getattr(self._capture, "items", None)
        if captured is not None:  # the sender handing back a batch it could not send
            captured.append(item)
            return
        self._name(item)
        with self._lock:
            self._items.append(item)
            overflow = self._trim()
            size = len(self._items)
        if overflow:
            self._warn_dropped()
        if size >= self.sender.send_buffer_size:
            self.wake.set()

    def _trim(self) -> int:
        overflow = max(0, len(self._items) - self.max_items)
        for _ in range(overflow):
            self._items.popleft()
        self.dropped += overflow
        return overflow

    def _warn_dropped(self) -> None:
        now = self._monotonic()
        if self._warned_at is not None and now - self._warned_at < DROP_WARNING_EVERY_SECONDS:
            return
        self._warned_at, new = now, self.dropped - self._warned_count
        self._warned_count = self.dropped
        log.warning("Application Insights is not taking telemetry fast enough (unreachable or "
                    "slow): dropped the oldest %d item(s), %d in total, to keep the queue at %d",
                    new, self.dropped, self.max_items, extra={"telemetry_dropped": self.dropped})

    def get(self) -> Any | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def take(self, n: int) -> list[Any]:
        with self._lock:
            return [self._items.popleft() for _ in range(min(n, len(self._items)))]

    def flush(self) -> None:
        """The SDK's flush: only wakes the sender thread (it never sends in the caller)."""
        self.wake.set()

    def qsize(self) -> int:
        with self._lock:
            return len(self._items)

    @contextmanager
    def capturing(self) -> Iterator[list[Any]]:
        """Collect what the sender re-queues during a send (its sign of failure)."""
        self._capture.items = []
        try:
            yield self._capture.items
        finally:
            self._capture.items = None

    def put_back(self, items: list[Any]) -> None:
        """Return an unsent batch to the front, oldest first; the bound still applies."""
        with self._lock:
            self._items.extendleft(reversed(items))
            overflow = self._trim()
        if overflow:
            self._warn_dropped()


class SenderThread:
    """Drains a BoundedQueue through the SDK sender on one daemon thread."""

    def __init__(self, queue: BoundedQueue, *, interval: float = 5.0, max_backoff: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.queue = queue
        self.sender: SenderBase = queue.sender
        self.interval = interval
        self.max_backoff = max_backoff
        self.clock = clock
        self.sent = 0
        self.failed_sends = 0
        self.consecutive_failures = 0
        self.last_success_at: float | None = None
        self.failing_since: float | None = None
        self._busy = False
        self._stop = threading.Event()
        self._urgent = threading.Event()
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="appinsights-sender", daemon=True)

    def start(self) -> SenderThread:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.consecutive_failures:
                backoff = min(self.max_backoff, self.interval * 2 ** (self.consecutive_failures - 1))
                self._urgent.wait(backoff)  # new items do not cut a back-off short; flush does
            else:
                self.queue.wake.wait(self.interval)
            self.queue.wake.clear()
            self._urgent.clear()
            try:
                self._drain()
            except Exception as exc:  # noqa: BLE001 - the thread must outlive any bad batch
                log.warning("telemetry sender error: %s", type(exc).__name__)
            with self._idle:
                self._idle.notify_all()

    def _drain(self) -> None:
        while not self._stop.is_set():
            self._busy = True  # before taking: a flush must never see "empty and idle" mid-batch
            try:
                batch = self.queue.take(self.sender.send_buffer_size)
                if not batch:
                    return
                with self.queue.capturing() as returned:
                    self.sender.send(batch)
                if returned:
                    self.queue.put_back(returned)
            finally:
                self._busy = False
            if returned:
                self._failed(len(returned))
                return
            self.sent += len(batch)
            self.consecutive_failures = 0
            self.failing_since = None
            self.last_success_at = self.clock()
            with self._idle:
                self._idle.notify_all()

    def _failed(self, count: int) -> None:
        self.failed_sends += 1
        self.consecutive_failures += 1
        self.failing_since = self.failing_since or self.clock()
        if self.consecutive_failures in (1, 5, 20) or self.consecutive_failures % 100 == 0:
            log.warning("Application Insights did not accept %d telemetry item(s) (%d failed sends "
                        "in a row); retrying with back-off", count, self.consecutive_failures)

    def flush(self, timeout: float) -> bool:
        """Ask for an immediate send and wait at most ``timeout`` s; True when all was sent.

        Gives up early when a send made after the request fails: the endpoint is down, and
        waiting out the back-off would only delay a shutdown.
        """
        failed_before = self.failed_sends
        self.queue.wake.set()
        self._urgent.set()
        with self._idle:
            self._idle.wait_for(lambda: (not self._busy and self.queue.qsize() == 0)
                                or self.failed_sends > failed_before or not self.alive, timeout)
        return not self._busy and self.queue.qsize() == 0

    def close(self, timeout: float) -> bool:
        """Flush for at most ``timeout`` s, then stop; never waits longer (the thread is a daemon)."""
        deadline = time.monotonic() + max(0.0, timeout)
        flushed = self.flush(timeout) if self.alive else self.queue.qsize() == 0
        self._stop.set()
        self._urgent.set()
        self.queue.wake.set()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return flushed

    def stats(self) -> dict[str, Any]:
        return {"queued": self.queue.qsize(), "dropped": self.queue.dropped, "sent": self.sent,
                "failed_sends": self.failed_sends, "consecutive_failures": self.consecutive_failures,
                "last_success_at": self.last_success_at, "failing_since": self.failing_since}
