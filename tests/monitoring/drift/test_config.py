"""Detector settings: picked from runtime settings, validated with a message, round-tripped."""

from __future__ import annotations

import pytest

from monitoring.drift import DriftConfig
from monitoring.errors import ConfigError


def test_from_settings_picks_known_keys_only() -> None:
    cfg = DriftConfig.from_settings({"false_alarms_per_30d": 2.0, "window_pulls": 12, "theme": "dark"})
    assert (cfg.false_alarms_per_30d, cfg.window_pulls) == (2.0, 12)


@pytest.mark.parametrize(("key", "value"), [("false_alarms_per_30d", 0.0), ("reference_min_rows", 10),
                                            ("window_pulls", 2), ("assurance", float("nan"))])
def test_out_of_range_values_are_refused(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"drift setting {key}="):
        DriftConfig(**{key: value})


def test_unknown_min_effect_names_are_refused_and_known_ones_merged() -> None:
    with pytest.raises(ConfigError, match="unknown methods"):
        DriftConfig(min_effect={"kss": 0.1})
    cfg = DriftConfig(min_effect={"ks": 0.2})
    assert cfg.min_effect["ks"] == 0.2 and cfg.min_effect["psi"] == 0.1


def test_round_trip_and_equality() -> None:
    cfg = DriftConfig(threshold_overrides={"ks": 0.3}, pull_interval_minutes=30)
    assert DriftConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.with_changes(window_pulls=48).window_pulls == 48
