"""One POST of one payload to one webhook, classified as delivered, retry later, or give up.

Retrying is the outbox's job: attempts and the next attempt time are persisted, so
they survive restarts and never hold a thread while waiting. In-process retry helpers
(urllib3's ``Retry``, tenacity) would do neither, and urllib3 logs each retry with the
URL's path (the token) in the raw record, so the adapter is mounted with retries off.
Redirects are not followed (a webhook that redirects is misconfigured, and following
would re-post the body elsewhere). Error texts never carry the URL: requests quotes
the path, so every message is scrubbed first.
"""

from __future__ import annotations

import http.cookiejar
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from monitoring.notify.urls import protect, scrub

DELIVERY_HEADER = "X-Monitor-Delivery"
USER_AGENT = "prediction-monitor-notify/1"
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
MAX_ERROR = 300
TRANSIENT = frozenset({408, 425, 429} | set(range(500, 600)) - {501, 505})


@dataclass(frozen=True)
class SendResult:
    """``ok``: a 2xx arrived. ``retry``: worth another attempt later. ``status``: the HTTP status."""

    ok: bool
    retry: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds()) if moment.tzinfo else None


def _describe(response: requests.Response) -> str:
    text = " ".join(response.text[:200].split())
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


class WebhookSender:
    """Posts JSON with a delivery id; one instance (one connection pool) per process is enough.

    Overlapping delivery passes share it: urllib3's pools are thread-safe and no per-request
    state (cookies, auth) lives on the session.
    """

    def __init__(self, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=Retry(total=0, redirect=0, raise_on_redirect=False),
                              pool_connections=3, pool_maxsize=4)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT})
        # Webhooks are stateless: keep no cookies, so nothing set by one receiver is replayed.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def send(self, url: str, payload: dict[str, Any], delivery_id: str) -> SendResult:
        protect(url)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        try:
            response = self.session.post(
                url, data=body, timeout=self.timeout, allow_redirects=False,
                headers={"Content-Type": "application/json; charset=utf-8",
                         DELIVERY_HEADER: delivery_id})
        except requests.RequestException as exc:
            return SendResult(False, True, None, scrub(f"{type(exc).__name__}: {exc}", url)[:MAX_ERROR])
        with response:
            status = response.status_code
            if 200 <= status < 300:
                return SendResult(True, False, status)
            error = scrub(_describe(response), url)[:MAX_ERROR]
            if 300 <= status < 400:
                error += "; the webhook redirects: configure its final URL"
            return SendResult(False, status in TRANSIENT, status, error,
                              _retry_after(response.headers.get("Retry-After")))

    def close(self) -> None:
        self.session.close()
