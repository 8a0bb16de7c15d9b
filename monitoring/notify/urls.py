"""Webhook URLs: validation, masking for display, and the fragments to redact from logs.

A webhook URL is a credential (Slack, Teams and most receivers put the token in the
path or the query), so it is only ever shown masked and every part that carries the
token is registered with the log redactor. Plain http is accepted only for loopback,
so tests can use a local receiver while production traffic is always encrypted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from monitoring.errors import ValidationError
from monitoring.telemetry import REDACTOR

LOOPBACK_NAMES = ("localhost",)
NOT_SET = "not set"
MIN_FRAGMENT = 12  # shorter paths ("/hook") carry no token worth masking everywhere


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(value: str) -> None:
    """Raise ValidationError unless ``value`` is empty (= not set) or a usable webhook URL."""
    if not value:
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValidationError("is not a valid URL") from exc
    if any(c.isspace() for c in value):
        raise ValidationError("must not contain spaces")
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError("must be an https:// URL")
    if parts.scheme == "http" and not _loopback(host):
        raise ValidationError("must be an https:// URL (plain http is only allowed for localhost)")
    if parts.username or parts.password:
        raise ValidationError("must not contain a user name or password")


def check_page_url(value: str) -> None:
    """The dashboard's public address: empty, or an http(s) URL without credentials."""
    if not value:
        return
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # e.g. "http://[" (an unclosed IPv6 bracket)
        raise ValidationError("is not a valid URL") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError("must be an http:// or https:// address, e.g. https://monitor.example.com")
    if parts.username or parts.password:
        raise ValidationError("must not contain a user name or password")


def secret_fragments(url: str) -> list[str]:
    """The URL and the parts of it that may appear alone in an error (path + query, query)."""
    if not url:
        return []
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    fragments = [url]
    fragments += [f for f in (tail, parts.query) if len(f) >= MIN_FRAGMENT]
    return fragments


def protect(url: str) -> None:
    """Register a webhook URL (and its token-bearing parts) with the log redactor."""
    REDACTOR.add(secret_fragments(url))


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's secret parts masked (errors from requests quote the path)."""
    for fragment in sorted(secret_fragments(url), key=len, reverse=True):
        text = text.replace(fragment, "***")
    return REDACTOR.text(text)


def masked(url: str) -> str:
    """How a configured webhook is shown: the host and the last 4 characters, never the token."""
    if not url:
        return NOT_SET
    host = urlsplit(url).hostname or "?"
    return f"configured ({host}, …{url[-4:]})"
