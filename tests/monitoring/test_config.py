"""The environment contract: defaults, clear errors, production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.config import load_config
from monitoring.errors import ConfigError


def test_defaults_need_nothing() -> None:
    config = load_config({})
    assert config.env == "development" and config.demo_mode
    assert config.data_dir == Path("./data") and config.pull_interval_minutes == 60
    assert config.journal_mode == "wal" and config.log_level == "INFO"


@pytest.mark.parametrize("missing", [
    {"AUTH_COOKIE_KEY": "c"}, {"MONITOR_DB_KEY": "k"}, {}])
def test_production_names_each_missing_variable(missing: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"MONITOR_ENV": "production", **missing})
    for name in ("MONITOR_DB_KEY", "AUTH_COOKIE_KEY"):
        assert (name in str(info.value)) == (name not in missing)


def test_production_with_both_keys_starts() -> None:
    config = load_config({"MONITOR_ENV": "production", "MONITOR_DB_KEY": "k" * 20,
                          "AUTH_COOKIE_KEY": "c" * 32})
    assert config.production


def test_a_short_cookie_key_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="AUTH_COOKIE_KEY is shorter than 32 characters.*token_hex"):
        load_config({"AUTH_COOKIE_KEY": "c" * 31})


@pytest.mark.parametrize(("env", "message"), [
    ({"MONITOR_PULL_INTERVAL_MINUTES": "often"}, "MONITOR_PULL_INTERVAL_MINUTES='often' is not a whole"),
    ({"MONITOR_PULL_INTERVAL_MINUTES": "0"}, "out of range"),
    ({"MONITOR_ENV": "staging"}, "MONITOR_ENV='staging' is not one of"),
    ({"AZURE_ML_ENDPOINT_URL": "http://example.com/score"}, "https:// scoring URI"),
    ({"AZURE_ML_ENDPOINT_URL": "https://x/score", "AZURE_ML_TIMEOUT_SECONDS": "soon"}, "not a number"),
    ({"AZURE_ML_ENDPOINT_URL": "https://x/score", "AZURE_ML_REQUEST_FILE": "/nope.json"}, "cannot be read"),
    ({"MONITOR_DB_JOURNAL_MODE": "memory"}, "is not one of"),
    ({"MONITOR_DRIFT_BUDGET_SECONDS": "-1"}, "MONITOR_DRIFT_BUDGET_SECONDS=-1 is out of range; use a value "
                                             "between 0 and 600"),
])
def test_bad_values_get_one_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env)


def test_secrets_are_masked_in_repr() -> None:
    config = load_config({"MONITOR_DB_KEY": "super-secret-db-key",
                          "AZURE_ML_ENDPOINT_URL": "https://x.inference.ml.azure.com/score",
                          "AZURE_ML_API_KEY": "super-secret-api-key"})
    assert "super-secret" not in repr(config)
    assert set(config.secrets()) == {"super-secret-db-key", "super-secret-api-key"}


def test_journal_mode_defaults_to_delete_on_app_service_share() -> None:
    config = load_config({"WEBSITE_SITE_NAME": "monitor", "MONITOR_DATA_DIR": "/home/data"})
    assert config.journal_mode == "delete"
    assert load_config({"WEBSITE_SITE_NAME": "monitor", "MONITOR_DATA_DIR": "/tmp/x"}).journal_mode == "wal"


def test_legacy_instrumentation_key_is_accepted() -> None:
    config = load_config({"APPINSIGHTS_INSTRUMENTATIONKEY": "abc"})
    assert config.appinsights_connection_string.reveal() == "InstrumentationKey=abc"
