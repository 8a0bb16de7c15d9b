"""The frozen reference of one field: fitted once, calibrated once, stored as JSON.

By default the reference is the first pulls of a field, as many as it takes to
reach both ``reference_min_rows`` and ``reference_min_days`` (7 days: a full weekly
cycle). Below that, :func:`reference_readiness` says why and the check is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from monitoring.drift.calibration import THIRTY_DAYS, Calibration, calibrate
from monitoring.drift.calibration import retarget as retarget_calibration
from monitoring.drift.config import DriftConfig
from monitoring.drift.core import ReferenceCore, fit_core
from monitoring.drift.pulls import Pulls, group_pulls, iso
from monitoring.errors import ValidationError

MODEL_VERSION = 1
DAY = 86_400.0


class InsufficientReferenceError(ValidationError):
    """The reference is below the minimum count or span; ``reason`` is shown on the drift page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Readiness:
    ready: bool
    n_pulls: int
    reason: str | None = None


def reference_readiness(pulls: Pulls, config: DriftConfig) -> Readiness:
    """How many leading pulls form the default reference, or why there are not enough yet."""
    if pulls.n_pulls == 0:
        return Readiness(False, 0, "no pulls yet")
    interval = (config.pull_interval_minutes * 60.0 if config.pull_interval_minutes
                else float(np.median(np.diff(pulls.times))) if pulls.n_pulls > 1 else 3600.0)
    span = pulls.times - pulls.times[0] + interval
    rows = np.cumsum(pulls.sizes)
    ok = np.flatnonzero((span >= config.reference_min_days * DAY - 1e-6)
                        & (rows >= config.reference_min_rows))
    if ok.size:
        return Readiness(True, int(ok[0]) + 1)
    return Readiness(False, pulls.n_pulls,
                     f"reference needs {config.reference_min_rows} rows over {config.reference_min_days:g} "
                     f"days; has {int(rows[-1])} rows over {span[-1] / DAY:.1f} days, checks start once "
                     "it has both")


@dataclass(frozen=True)
class ReferenceModel:
    """Everything a check needs, precomputed; ``to_dict``/``from_dict`` round-trip through JSON."""

    field: str
    core: ReferenceCore
    calibration: Calibration
    config: DriftConfig
    version: int = MODEL_VERSION

    @property
    def thresholds(self) -> Mapping[str, Any]:
        return self.calibration.params

    def summary(self) -> dict[str, Any]:
        """Short, human-readable facts for the drift page and the audit log."""
        c = self.core
        return {"field": self.field, "start": iso(c.start_time), "end": iso(c.last_time), "rows": c.n_rows,
                "pulls": c.n_pulls, "level": round(c.level, 6), "residual_sd": round(c.scale, 6),
                "seasonal_terms": [f"{p / 3600:g}h/{k}" for p, k in c.terms],
                "ar_coefficients": np.round(c.phi, 4).tolist(), "outlier_rate": c.outliers / c.n_rows,
                "cusum_h": np.round(self.calibration.cusum_h, 3).tolist()}

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "field": self.field, "core": self.core.to_dict(),
                "calibration": self.calibration.to_dict(), "config": self.config.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReferenceModel:
        if d.get("version") != MODEL_VERSION:
            raise ValidationError(f"drift reference version {d.get('version')} is not supported "
                                  f"(expected {MODEL_VERSION}); re-baseline the field")
        return cls(d["field"], ReferenceCore.from_dict(d["core"]), Calibration.from_dict(d["calibration"]),
                   DriftConfig.from_dict(d["config"]), MODEL_VERSION)


def fit_reference(times: Any, values: Any, config: DriftConfig, rng: np.random.Generator, *,
                  pull_ids: Any = None, field: str = "", enforce_minimum: bool = True) -> ReferenceModel:
    """Fit and calibrate a reference on ALL given rows (select them with :func:`reference_readiness`).

    Raises :class:`InsufficientReferenceError` below the minimum rows/span (unless
    ``enforce_minimum`` is False, for tests and admin experiments).
    """
    pulls = group_pulls(times, values, pull_ids)
    if enforce_minimum:
        ready = reference_readiness(pulls, config)
        if not ready.ready:
            raise InsufficientReferenceError(ready.reason or "reference too small")
    if pulls.n_pulls < 24:
        raise InsufficientReferenceError(f"reference has {pulls.n_pulls} pulls; at least 24 are needed")
    if np.ptp(pulls.values) == 0:
        raise InsufficientReferenceError("reference values are all equal; nothing to compare against")
    core = fit_core(pulls, config)
    return ReferenceModel(field, core, calibrate(core, pulls, config, rng), config)


def retarget(model: ReferenceModel, config: DriftConfig) -> ReferenceModel:
    """Apply a changed budget, assurance, interval or overrides without refitting."""
    interval = config.pull_interval_minutes * 60.0 if config.pull_interval_minutes else model.core.interval
    cal = retarget_calibration(model.calibration, config.false_alarms_per_30d, config.assurance,
                               THIRTY_DAYS / interval)
    return replace(model, calibration=cal, config=config)
