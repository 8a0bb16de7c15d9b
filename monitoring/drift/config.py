"""Detector settings as one frozen value, mapped from the product's runtime settings.

The reference model keeps a copy of the config it was calibrated with, so a stored
model always explains its own thresholds; :func:`monitoring.drift.reference.retarget`
re-applies a changed budget or overrides without refitting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from monitoring.errors import ConfigError

# Smallest effect worth an alert, per method, in the method's effect-size unit (see registry).
DEFAULT_MIN_EFFECT: Mapping[str, float] = MappingProxyType({
    "cusum_location": 0.2,   # shift, in reference residual sd
    "cusum_scale": 0.1,      # |log sd ratio|
    "cusum_shape": 0.1,      # |mean Hermite score| (about skewness/sqrt6, excess kurtosis/sqrt24)
    "ks": 0.1,               # KS D
    "psi": 0.1,              # PSI
    "wasserstein": 0.1,      # W1 / reference sd
    "jensen_shannon": 0.1,   # JS distance (natural log)
    "anomaly_rate": 0.005,   # outlier rate above the reference rate
    "mann_kendall": 0.1,     # |Theil-Sen slope| in reference sd per day
})


@dataclass(frozen=True)
class DriftConfig:
    """Everything the detector needs to know; defaults match the product's settings page."""

    false_alarms_per_30d: float = 1.0
    assurance: float = 50.0
    pull_interval_minutes: float | None = None
    reference_min_rows: int = 168
    reference_min_days: float = 7.0
    window_pulls: int = 24
    trend_window_pulls: int = 72
    resolve_after_clean_checks: int = 6
    threshold_overrides: Mapping[str, float] = field(default_factory=dict)
    min_effect: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_EFFECT))
    cusum_k: float = 0.5
    cusum_cap: float = 1.5
    outlier_z: float = 4.0
    max_daily_harmonics: int = 3
    max_weekly_harmonics: int = 2
    harmonic_alpha: float = 0.001
    max_ar_order: int = 4
    max_gap_pulls: float = 3.0
    bootstrap_replicates: int = 200
    bootstrap_days: float = 30.0
    bootstrap_max_rows_per_pull: int = 32
    sketch_size: int = 2048
    window_row_cap: int = 1200

    def __post_init__(self) -> None:
        checks = [
            ("false_alarms_per_30d", self.false_alarms_per_30d > 0),
            ("assurance", self.assurance >= 1),
            ("reference_min_rows", self.reference_min_rows >= 24),
            ("reference_min_days", self.reference_min_days >= 1),
            ("window_pulls", self.window_pulls >= 3),
            ("trend_window_pulls", self.trend_window_pulls >= 10),
            ("resolve_after_clean_checks", self.resolve_after_clean_checks >= 1),
            ("cusum_k", self.cusum_k > 0),
            ("cusum_cap", self.cusum_cap >= 1),
            ("outlier_z", self.outlier_z > 1),
            ("bootstrap_replicates", self.bootstrap_replicates >= 20),
            ("bootstrap_days", self.bootstrap_days >= 1),
            ("sketch_size", self.sketch_size >= 64),
            ("window_row_cap", self.window_row_cap >= self.window_pulls),
        ]
        for name, ok in checks:
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ConfigError(f"drift setting {name}={value!r} is out of range; "
                                  "see monitoring/drift/config.py for valid values")
        if self.pull_interval_minutes is not None and not self.pull_interval_minutes > 0:
            raise ConfigError("pull_interval_minutes must be positive (or None to infer it)")
        unknown = set(self.min_effect) - set(DEFAULT_MIN_EFFECT)
        if unknown:
            raise ConfigError(f"min_effect names unknown methods {sorted(unknown)}")
        object.__setattr__(self, "min_effect", MappingProxyType({**DEFAULT_MIN_EFFECT,
                                                                 **self.min_effect}))
        object.__setattr__(self, "threshold_overrides",
                           MappingProxyType({k: float(v) for k, v in self.threshold_overrides.items()}))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], **extra: Any) -> DriftConfig:
        """Pick the drift keys out of the product's runtime settings (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        picked = {k: v for k, v in settings.items() if k in names}
        return cls(**{**picked, **extra})

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["threshold_overrides"] = dict(self.threshold_overrides)
        out["min_effect"] = dict(self.min_effect)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_changes(self, **changes: Any) -> DriftConfig:
        return replace(self, **changes)
