"""Alert event -> what each channel receives, in words an analyst understands.

A ``Notice`` is the channel-neutral content (headline, what it means, facts, link);
one pure function per channel lays it out: a plain JSON document for a generic
webhook, Block Kit for Slack, an Adaptive Card for Microsoft Teams. Only curated alert
fields go in (never the raw details), so no secret or internal value can leak into a
payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitoring.drift.registry import BY_NAME
from monitoring.store import Alert
from monitoring.timeutil import from_ms, iso

SOURCE = "prediction-monitor"
PRODUCT = "Prediction Monitor"
SLACK_HEADER_MAX = 150

KIND_MEANING: dict[str, str] = {
    "drift": "The distribution of {field} in recent pulls no longer matches its reference.",
    "anomaly": "More values of {field} than usual lie far outside the reference range.",
    "trend": "{field} has been moving steadily in one direction across recent pulls.",
    "endpoint_failing": "Pulls from the Azure ML scoring endpoint keep failing{failures}.",
    "breaker_open": "Calls to the scoring endpoint are paused after repeated failures; "
                    "they resume by themselves after the cool-down.",
    "scheduler_stale": "The scheduler missed its runs{gap}; predictions are not being checked.",
}
KIND_NAMES: dict[str, str] = {
    "drift": "Distribution change", "anomaly": "Outliers", "trend": "Trend",
    "endpoint_failing": "Endpoint failing", "breaker_open": "Circuit breaker open",
    "scheduler_stale": "Scheduler stale",
}
HEADLINES: dict[str, str] = {
    "opened": "{Severity} alert: {title}",
    "escalated": "Escalated to {severity}: {title}",
    "resolved": "Resolved: {title}",
}
COLORS = {"critical": "Attention", "warning": "Warning", "info": "Accent"}


def when(ms: int) -> str:
    """'2026-01-05 10:00 UTC': how times read in a chat message."""
    return from_ms(ms).strftime("%Y-%m-%d %H:%M UTC")


def method_names(methods: tuple[str, ...]) -> str:
    return ", ".join(BY_NAME[m].display_name if m in BY_NAME else m for m in methods)


@dataclass(frozen=True)
class Notice:
    """One alert event, channel-neutral."""

    event: str
    alert_id: int
    title: str
    category: str
    field: str | None
    kind: str
    severity: str
    status: str
    opened_at: int
    event_at: int
    methods: tuple[str, ...] = ()
    previous_severity: str | None = None
    occurrences: int = 1
    clean_checks: int = 0
    consecutive_failures: int | None = None
    gap_minutes: float | None = None
    simulated: bool = False
    link: str | None = None

    @property
    def event_id(self) -> str:
        """The same for every channel: a receiver fed by several channels can match them."""
        return f"{self.alert_id}:{self.event}:{self.event_at}"

    @property
    def headline(self) -> str:
        text = HEADLINES[self.event].format(Severity=self.severity.capitalize(),
                                            severity=self.severity, title=self.title)
        if self.event == "escalated" and self.previous_severity:
            text += f" (was {self.previous_severity})"
        return f"[simulated data] {text}" if self.simulated else text

    @property
    def meaning(self) -> str:
        template = KIND_MEANING.get(self.kind, "{title}.")
        text = template.format(
            field=self.field or "", title=self.title,
            failures=f" ({self.consecutive_failures} in a row)" if self.consecutive_failures else "",
            gap=f" (no pull for {self.gap_minutes:g} minutes)" if self.gap_minutes else "")
        if self.event == "resolved":
            checks = f"{self.clean_checks} clean checks" if self.clean_checks else "clean checks"
            text = f"Back to normal after {checks} in a row; the alert closed itself. Was: {text}"
        if self.simulated and self.category == "drift":
            text += " (Demo mode: these predictions are simulated.)"
        return text

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) pairs shown as a table."""
        rows = [("Severity", self.severity.capitalize()),
                ("Field", self.field or "(operational)"),
                ("Kind", KIND_NAMES.get(self.kind, self.kind)),
                ("Opened", when(self.opened_at))]
        if self.event != "opened":
            rows.append(("Resolved" if self.event == "resolved" else "Escalated", when(self.event_at)))
        if self.methods:
            rows.append(("Detected by", method_names(self.methods)))
        if self.occurrences > 1:
            rows.append(("Checks flagged", str(self.occurrences)))
        return rows


def notice_for(event: str, alert: Alert, at: int, *, previous_severity: str | None = None,
               simulated: bool = False, dashboard_url: str = "") -> Notice:
    """The notice of one alert change; ``at`` is when the change happened."""
    details = alert.details
    failures = details.get("consecutive_failures")
    gap = details.get("gap_minutes")
    link = f"{dashboard_url.rstrip('/')}/alerts?alert={alert.id}" if dashboard_url else None
    return Notice(event, alert.id, alert.title, alert.category, alert.field, alert.kind, alert.severity,
                  alert.status, alert.opened_at, at, tuple(str(m) for m in details.get("methods", ())),
                  previous_severity, alert.occurrences, alert.clean_checks,
                  int(failures) if isinstance(failures, int | float) else None,
                  float(gap) if isinstance(gap, int | float) else None,
                  simulated and alert.category == "drift", link)  # ops alerts are real even in demo


# -- generic webhook ----------------------------------------------------------------------------
def webhook_payload(notice: Notice) -> dict[str, Any]:
    """A stable JSON document for scripts and other tools (ISO times, machine names and words)."""
    return {
        "source": SOURCE, "event": notice.event, "event_id": notice.event_id,
        "headline": notice.headline, "summary": notice.meaning,
        "alert": {"id": notice.alert_id, "title": notice.title, "category": notice.category,
                  "field": notice.field, "kind": notice.kind, "severity": notice.severity,
                  "previous_severity": notice.previous_severity, "status": notice.status,
                  "opened_at": iso(from_ms(notice.opened_at)), "event_at": iso(from_ms(notice.event_at)),
                  "methods": list(notice.methods), "occurrences": notice.occurrences},
        "simulated": notice.simulated, "url": notice.link,
    }


# -- Slack --------------------------------------------------------------------------------------
def _mrkdwn(text: str) -> str:
    """Slack's three control characters, escaped as its docs require."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    """Incoming-webhook message: ``text`` for the notification, Block Kit for the message body."""
    fields = [{"type": "mrkdwn", "text": f"*{label}*\n{_mrkdwn(value)}"} for label, value in notice.facts()]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.headline[:SLACK_HEADER_MAX],
                                    "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(notice.meaning)}},
        {"type": "section", "fields": fields[:10]},
    ]
    if notice.link:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open in dashboard"},
            "url": notice.link}]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{PRODUCT} · alert #{notice.alert_id}"}]})
    return {"text": _mrkdwn(notice.headline), "blocks": blocks}


# -- Microsoft Teams ----------------------------------------------------------------------------
def adaptive_card(headline: str, body: str, facts: list[tuple[str, str]], color: str,
                  link: str | None) -> dict[str, Any]:
    """A Teams message holding one Adaptive Card (what Workflows and incoming webhooks accept)."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4", "msteams": {"width": "Full"},
        "body": [
            {"type": "TextBlock", "text": headline, "weight": "Bolder", "size": "Medium",
             "color": color, "wrap": True},
            {"type": "TextBlock", "text": body, "wrap": True},
            {"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in facts]},
        ],
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in dashboard", "url": link}]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def teams_payload(notice: Notice) -> dict[str, Any]:
    color = "Good" if notice.event == "resolved" else COLORS.get(notice.severity, "Default")
    return adaptive_card(notice.headline, notice.meaning, notice.facts(), color, notice.link)


FORMATTERS: dict[str, Callable[[Notice], dict[str, Any]]] = {
    "webhook": webhook_payload, "slack": slack_payload, "teams": teams_payload,
}


# -- test messages ------------------------------------------------------------------------------
TEST_HEADLINE = f"Test notification from {PRODUCT}"
TEST_BODY = ("If you can read this, alerts at or above the configured severity will arrive here. "
             "Nothing is wrong with the model.")


def ping_payload(channel: str, dashboard_url: str = "") -> dict[str, Any]:
    """What 'Send test notification' posts: recognisably a test, in the channel's own format."""
    link = dashboard_url.rstrip("/") or None
    if channel == "slack":
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": TEST_BODY}}]
        if link:
            blocks.append({"type": "actions", "elements": [{
                "type": "button", "text": {"type": "plain_text", "text": "Open dashboard"}, "url": link}]})
        return {"text": TEST_HEADLINE, "blocks": blocks}
    if channel == "teams":
        return adaptive_card(TEST_HEADLINE, TEST_BODY, [], "Accent", link)
    return {"source": SOURCE, "event": "test", "headline": TEST_HEADLINE, "summary": TEST_BODY,
            "url": link}
