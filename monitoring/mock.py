"""Simulated predictions that keep the product usable without an endpoint.

Rows look like the seed model's output (daily and weekly rhythm, noise, a savings
share of the archived volume, a confidence score) and are generated from a
generator seeded by the slot, so the same slot always yields the same rows: a
repeated pull stores nothing twice and tests are exact. Every row is stored with
``source='mock'`` and every page labels it as simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from monitoring.timeutil import to_ms

MOCK_MODEL_VERSION = "simulated"


@dataclass(frozen=True)
class MockProfile:
    """Shape of the simulated stream (defaults resemble the seed model)."""

    rows_per_pull: int = 20
    archived_mean: float = 500.0
    archived_sd: float = 40.0
    daily_amplitude: float = 0.06
    weekly_amplitude: float = 0.03
    savings_share: float = 0.24
    savings_sd: float = 9.0
    seed: int = 20_260_105
    # Demo story: between these epoch-ms times the model grows less confident (beta(9, 4)
    # instead of beta(18, 4): mean 0.69 instead of 0.82), so a first demo start shows a real
    # detected alert. None outside the demo backfill.
    incident: tuple[int, int] | None = None


def mock_rows(slot: datetime, profile: MockProfile = MockProfile(),
              rng: np.random.Generator | None = None) -> list[dict[str, object]]:
    """Rows for one pull at ``slot``; deterministic per slot unless ``rng`` is given."""
    hours = to_ms(slot) // 3_600_000
    rng = rng or np.random.default_rng([profile.seed, int(hours)])
    hour_of_day = (hours % 24) / 24.0
    day_of_week = ((hours // 24 + 3) % 7) / 7.0  # epoch day 0 was a Thursday
    level = profile.archived_mean * (
        1.0 + profile.daily_amplitude * math.sin(2 * math.pi * (hour_of_day - 0.25))
        + profile.weekly_amplitude * math.cos(2 * math.pi * day_of_week))
    n = profile.rows_per_pull
    archived = np.maximum(level + rng.normal(0.0, profile.archived_sd, n), 0.0)
    savings = np.maximum(profile.savings_share * archived + rng.normal(0.0, profile.savings_sd, n),
                         0.0)
    in_incident = profile.incident is not None and profile.incident[0] <= to_ms(slot) < profile.incident[1]
    confidence = rng.beta(9.0 if in_incident else 18.0, 4.0, n)
    return [{"archived_gb_predicted": round(float(a), 4),
             "savings_gb_predicted": round(float(s), 4),
             "confidence_interval": round(float(c), 4),
             "model_version": MOCK_MODEL_VERSION}
            for a, s, c in zip(archived, savings, confidence, strict=True)]
