"""Fitted references shared by the drift tests.

Fitting runs the calibration bootstrap, the one expensive step, so each reference is
fitted once per session. ``FAST`` keeps the bootstrap small (it changes how precise
the thresholds are, not how any method computes); the calibration tests use the
product defaults instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from monitoring.drift import DriftConfig, ReferenceModel, fit_reference
from tests.monitoring.drift.streams import batched, hours

FAST = DriftConfig(pull_interval_minutes=60, bootstrap_replicates=40, bootstrap_days=7)
REF_PULLS = 14 * 24
LEVEL, SD = 100.0, 5.0


@dataclass(frozen=True)
class Fitted:
    model: ReferenceModel
    times: np.ndarray   # row times (epoch s)
    values: np.ndarray  # row values

    @property
    def next_time(self) -> float:
        return float(self.times[-1]) + 3600.0


@pytest.fixture(scope="session")
def iid_ref() -> Fitted:
    """Two weeks of hourly single-row pulls, iid N(100, 5^2): no profile, no AR."""
    rng = np.random.default_rng(11)
    t = hours(REF_PULLS)
    x = LEVEL + SD * rng.standard_normal(t.size)
    return Fitted(fit_reference(t, x, FAST, np.random.default_rng(1), field="archived_gb_predicted"), t, x)


@pytest.fixture(scope="session")
def batch_ref() -> Fitted:
    """Two weeks of hourly pulls of 100 iid rows each (33,600 rows, no pull-level noise)."""
    rng = np.random.default_rng(12)
    t, x = batched(hours(REF_PULLS), np.full(REF_PULLS, LEVEL), 100, SD, rng)
    return Fitted(fit_reference(t, x, FAST, np.random.default_rng(2), field="savings_gb_predicted"), t, x)
