"""Payload words and shapes: what an analyst reads in Slack, Teams or a script."""

from __future__ import annotations

import json

from monitoring.notify.formatters import (
    SLACK_HEADER_MAX,
    Notice,
    notice_for,
    ping_payload,
    slack_payload,
    teams_payload,
    webhook_payload,
)
from monitoring.store import Alert

T0 = 1_767_571_200_000  # 2026-01-05 00:00 UTC


def _alert(**overrides: object) -> Alert:
    values: dict = dict(id=7, fingerprint="drift:savings_gb_predicted:trend", category="drift",
                        field="savings_gb_predicted", kind="trend", severity="critical", status="open",
                        title="Trend: savings_gb_predicted", opened_at=T0, last_seen_at=T0,
                        resolved_at=None, occurrences=3, clean_checks=0, snoozed_until=None,
                        details={"methods": ["mann_kendall", "cusum_location"], "at": "x"})
    values.update(overrides)
    return Alert(**values)


def test_an_opened_drift_alert_reads_as_words() -> None:
    notice = notice_for("opened", _alert(), T0, dashboard_url="https://mon.example.com/")
    assert notice.headline == "Critical alert: Trend: savings_gb_predicted"
    assert notice.meaning == ("savings_gb_predicted has been moving steadily in one direction "
                              "across recent pulls.")
    assert notice.facts() == [("Severity", "Critical"), ("Field", "savings_gb_predicted"),
                              ("Kind", "Trend"), ("Opened", "2026-01-05 00:00 UTC"),
                              ("Detected by", "Mann-Kendall trend, CUSUM: location"),
                              ("Checks flagged", "3")]
    assert notice.link == "https://mon.example.com/alerts?alert=7"


def test_an_operational_resolution_reads_as_words_without_a_link() -> None:
    alert = _alert(category="operational", field=None, kind="scheduler_stale", severity="warning",
                   title="Scheduler missed its runs", status="resolved", clean_checks=6, occurrences=1,
                   details={"gap_minutes": 185.5, "previous_cycle_at": "2026-01-04T21:00:00Z"})
    notice = notice_for("resolved", alert, T0 + 6 * 3_600_000)
    assert notice.headline == "Resolved: Scheduler missed its runs"
    assert notice.meaning.startswith("Back to normal after 6 clean checks in a row; the alert closed "
                                     "itself. Was: The scheduler missed its runs (no pull for 185.5 "
                                     "minutes)")
    assert ("Field", "(operational)") in notice.facts()
    assert ("Resolved", "2026-01-05 06:00 UTC") in notice.facts()
    assert notice.link is None
    assert "actions" not in teams_payload(notice)["attachments"][0]["content"]
    assert [b["type"] for b in slack_payload(notice)["blocks"]] == ["header", "section", "section",
                                                                     "context"]


def test_only_curated_fields_reach_a_payload() -> None:
    alert = _alert(details={"methods": ["ks"], "endpoint": "https://x.example/score?key=abc",
                            "note": "internal"})
    for payload in (webhook_payload(notice_for("opened", alert, T0)),
                    slack_payload(notice_for("opened", alert, T0)),
                    teams_payload(notice_for("opened", alert, T0))):
        text = json.dumps(payload)
        assert "x.example" not in text and "internal" not in text


def test_slack_text_is_escaped_and_the_header_fits() -> None:
    notice = Notice("escalated", 1, "A <b> & " + "x" * 200, "drift", "f", "drift", "critical", "open",
                    T0, T0 + 60_000, previous_severity="warning")
    payload = slack_payload(notice)
    assert payload["text"].startswith("Escalated to critical: A &lt;b&gt; &amp; ")
    assert payload["text"].endswith("(was warning)")
    assert len(payload["blocks"][0]["text"]["text"]) == SLACK_HEADER_MAX


def test_webhook_document_is_stable_json() -> None:
    payload = webhook_payload(notice_for("opened", _alert(), T0))
    assert payload["event_id"] == f"7:opened:{T0}"
    assert payload["alert"] == {
        "id": 7, "title": "Trend: savings_gb_predicted", "category": "drift",
        "field": "savings_gb_predicted", "kind": "trend", "severity": "critical",
        "previous_severity": None, "status": "open", "opened_at": "2026-01-05T00:00:00Z",
        "event_at": "2026-01-05T00:00:00Z", "methods": ["mann_kendall", "cusum_location"],
        "occurrences": 3}
    assert payload["simulated"] is False and payload["url"] is None


def test_test_messages_say_they_are_tests_in_each_channel_format() -> None:
    assert ping_payload("slack")["text"] == "Test notification from Prediction Monitor"
    card = ping_payload("teams", "https://mon.example.com")["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["actions"][0]["url"] == "https://mon.example.com"
    assert ping_payload("webhook")["event"] == "test"
