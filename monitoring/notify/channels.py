"""The notification channels and the settings that configure them, read from any connection.

The outbox policy runs inside the alert transaction, so it reads settings through that
transaction's connection (``read_settings``) rather than through ``SettingsService``,
which would borrow a second connection and could see a different snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.errors import ValidationError
from monitoring.settings import SPEC_BY_KEY, coerce
from monitoring.store import Connection, Settings

CHANNEL_SETTINGS: dict[str, str] = {
    "webhook": "notify_webhook_url",
    "slack": "notify_slack_webhook_url",
    "teams": "notify_teams_webhook_url",
}
CHANNEL_LABELS: dict[str, str] = {"webhook": "Webhook", "slack": "Slack", "teams": "Microsoft Teams"}
NOTIFY_KEYS = ("notify_enabled", "min_severity_to_notify", "notify_max_attempts", "dashboard_url",
               *CHANNEL_SETTINGS.values())
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def read_settings(conn: Connection) -> dict[str, Any]:
    """The notification settings as stored (defaults for missing or no longer valid values)."""
    stored = Settings(conn).all()
    values: dict[str, Any] = {}
    for key in NOTIFY_KEYS:
        spec = SPEC_BY_KEY[key]
        try:
            values[key] = coerce(spec, stored[key]) if key in stored else spec.default
        except ValidationError:
            values[key] = spec.default
    return values


def configured(settings: Mapping[str, Any]) -> dict[str, str]:
    """Channel -> webhook URL, for the channels that have one."""
    return {channel: settings[key] for channel, key in CHANNEL_SETTINGS.items() if settings.get(key)}


def check_channel(channel: str) -> str:
    if channel not in CHANNEL_SETTINGS:
        raise ValidationError(f"'{channel[:20]}' is not a notification channel; use one of "
                              f"{', '.join(CHANNEL_SETTINGS)}")
    return channel
