"""Settings: validated with clear messages, admin-only, every change audited."""

from __future__ import annotations

import pytest

from monitoring.actors import Actor
from monitoring.context import Monitor
from monitoring.errors import PermissionDeniedError, ValidationError
from monitoring.settings import SPEC_BY_KEY, coerce
from monitoring.store import Audit

ADMIN = Actor("admin", "admin")
ANALYST = Actor("ann", "analyst")


def test_defaults_and_env_seed(monitor: Monitor) -> None:
    values = monitor.settings.effective()
    assert values["pull_interval_minutes"] == 60
    assert values["monitored_fields"] == ["archived_gb_predicted", "savings_gb_predicted",
                                          "confidence_interval"]


def test_admin_change_is_audited_with_old_and_new(monitor: Monitor, clock) -> None:
    changed = monitor.settings.update(ADMIN, {"pull_interval_minutes": "30", "window_pulls": 24})
    assert changed == {"pull_interval_minutes": (60, 30)}  # unchanged values are not audited
    assert monitor.settings.effective()["pull_interval_minutes"] == 30
    with monitor.store.read() as conn:
        (entry,) = Audit(conn).recent(action_prefix="settings.")
    assert (entry.actor, entry.action, entry.target) == ("admin", "settings.update",
                                                         "pull_interval_minutes")
    assert (entry.old_value, entry.new_value) == ("60", "30")
    assert entry.at == int(clock().timestamp() * 1000)


def test_analyst_write_is_refused_by_the_service(monitor: Monitor) -> None:
    with pytest.raises(PermissionDeniedError, match="only admins"):
        monitor.settings.update(ANALYST, {"pull_interval_minutes": 5})
    assert monitor.settings.effective()["pull_interval_minutes"] == 60


@pytest.mark.parametrize(("changes", "message"), [
    ({"pull_interval_minutes": 0}, "between 1 and 1440"),
    ({"pull_interval_minutes": 2.5}, "whole number"),
    ({"false_alarms_per_30d": "many"}, "must be a number"),
    ({"false_alarms_per_30d": float("nan")}, "finite"),
    ({"monitored_fields": ["ok_field", "bad field"]}, "not a valid field name"),
    ({"monitored_fields": []}, "at least one"),
    ({"field_ranges": {"a": {"min": 5, "max": 1}}}, "min is above max"),
    ({"threshold_overrides": {"psi": -1}}, "positive"),
    ({"min_severity_to_notify": "loud"}, "one of info"),
    ({"mock_fallback": "perhaps"}, "true or false"),
    ({"no_such_setting": 1}, "is not a setting"),
    ({"pull_interval_minutes": 10**400}, "finite"),  # too large for a float: not an OverflowError
    ({"field_ranges": {"a": {"min": 0, "max": 10**400}}}, "a.max must be a finite number"),
    ({"threshold_overrides": {"psi": -(10**400)}}, "finite"),
    ({"monitored_fields": ["archived_gb_predicted\n"]}, "not a valid field name"),
    ({"field_mapping": {"archived": "archived_gb_predicted\n"}}, "not a valid field name"),
    ({"dashboard_url": "http://["}, "Dashboard address .*: is not a valid URL"),  # urlsplit's ValueError
])
def test_invalid_values_get_a_clear_message_and_change_nothing(monitor: Monitor, changes, message):
    before = monitor.settings.effective()
    with pytest.raises(ValidationError, match=message):
        monitor.settings.update(ADMIN, changes)
    assert monitor.settings.effective() == before


def test_one_bad_value_rejects_the_whole_change(monitor: Monitor) -> None:
    with pytest.raises(ValidationError):
        monitor.settings.update(ADMIN, {"pull_interval_minutes": 30, "window_pulls": -3})
    assert monitor.settings.effective()["pull_interval_minutes"] == 60


@pytest.mark.parametrize("name", ["blue", "green-2", "B" * 32])
def test_a_deployment_name_is_accepted(name: str) -> None:
    assert coerce(SPEC_BY_KEY["endpoint_deployment"], f" {name} ") == name


@pytest.mark.parametrize("name", ["blue\r\nX-Injected: 1", "has space", "-x", "B" * 33, "dép"])
def test_a_deployment_header_that_is_no_deployment_name_is_refused(name: str) -> None:
    """It is sent as the azureml-model-deployment header: no control characters, no junk."""
    with pytest.raises(ValidationError, match="deployment name"):
        coerce(SPEC_BY_KEY["endpoint_deployment"], name)
