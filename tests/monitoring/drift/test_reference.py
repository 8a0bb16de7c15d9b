"""Readiness below the minimum, the insufficient-reference errors, and the JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitoring.drift import (
    DriftConfig,
    InsufficientReferenceError,
    ReferenceModel,
    check_window,
    fit_reference,
    group_pulls,
    reference_readiness,
    retarget,
)
from monitoring.drift.pulls import Pulls
from monitoring.drift.reference import MODEL_VERSION
from monitoring.errors import ValidationError
from tests.monitoring.drift.conftest import FAST
from tests.monitoring.drift.streams import batched, hours

CFG = DriftConfig(reference_min_rows=168, reference_min_days=7.0, pull_interval_minutes=60)


def test_not_ready_below_the_minimum_span_says_why() -> None:
    t = hours(100)  # 100 rows over 100 h: too few rows and too short
    ready = reference_readiness(group_pulls(t, np.ones(t.size)), CFG)
    assert not ready.ready and ready.n_pulls == 100
    assert ready.reason == ("reference needs 168 rows over 7 days; has 100 rows over 4.2 days, "
                            "checks start once it has both")


def test_ready_at_the_first_pull_that_meets_both_minimums() -> None:
    # 10 rows a pull: 168 rows are reached after 17 pulls, but 7 days only after 168 pulls
    t, x = batched(hours(200), np.zeros(200), 10, 1.0, np.random.default_rng(0))
    ready = reference_readiness(group_pulls(t, x), CFG)
    assert ready.ready and ready.n_pulls == 168 and ready.reason is None
    # 1 row a pull and a 300-row minimum: rows decide (300 pulls > 7 days)
    t1 = hours(400)
    rows = reference_readiness(group_pulls(t1, np.zeros(t1.size)), CFG.with_changes(reference_min_rows=300))
    assert rows.n_pulls == 300


def test_no_pulls_is_not_ready() -> None:
    empty = Pulls(np.zeros(0), np.zeros(1, dtype=np.int64), np.zeros(0))
    ready = reference_readiness(empty, CFG)
    assert (ready.ready, ready.n_pulls, ready.reason) == (False, 0, "no pulls yet")


def test_fit_refuses_a_small_reference_with_the_readiness_reason() -> None:
    t = hours(100)
    x = np.random.default_rng(1).standard_normal(t.size)
    with pytest.raises(InsufficientReferenceError) as info:
        fit_reference(t, x, CFG, np.random.default_rng(0))
    assert info.value.reason.startswith("reference needs 168 rows over 7 days; has 100 rows")
    assert isinstance(info.value, ValidationError)  # one exception tree: pages catch MonitoringError


def test_fit_refuses_too_few_pulls_and_constant_values_even_when_not_enforced() -> None:
    t = hours(20)
    with pytest.raises(InsufficientReferenceError, match="20 pulls; at least 24"):
        fit_reference(t, np.arange(20.0), CFG, np.random.default_rng(0), enforce_minimum=False)
    t = hours(48)
    with pytest.raises(InsufficientReferenceError, match="all equal"):
        fit_reference(t, np.full(48, 3.0), CFG, np.random.default_rng(0), enforce_minimum=False)


def test_model_round_trips_through_json_and_checks_identically(iid_ref) -> None:
    model = iid_ref.model
    again = ReferenceModel.from_dict(json.loads(json.dumps(model.to_dict())))
    rng = np.random.default_rng(3)
    t = hours(72, iid_ref.next_time)
    x = 101.0 + 5.0 * rng.standard_normal(t.size)
    assert check_window(again, t, x).to_dict() == check_window(model, t, x).to_dict()
    assert again.summary() == model.summary()


def test_unknown_model_version_asks_for_a_rebaseline(iid_ref) -> None:
    data = iid_ref.model.to_dict() | {"version": MODEL_VERSION + 1}
    with pytest.raises(ValidationError, match="re-baseline the field"):
        ReferenceModel.from_dict(data)


def test_summary_states_the_reference_span(iid_ref) -> None:
    summary = iid_ref.model.summary()
    assert (summary["start"], summary["end"]) == ("2026-01-01T00:00:00Z", "2026-01-14T23:00:00Z")
    assert summary["rows"] == summary["pulls"] == 336


def test_fit_is_deterministic_for_a_seeded_generator() -> None:
    rng = np.random.default_rng(5)
    t = hours(200)
    x = 10.0 + rng.standard_normal(t.size)
    a = fit_reference(t, x, FAST, np.random.default_rng(9))
    b = fit_reference(t, x, FAST, np.random.default_rng(9))
    assert a.to_dict() == b.to_dict()


def test_retarget_changes_thresholds_not_the_fit(iid_ref) -> None:
    model = iid_ref.model
    looser = retarget(model, model.config.with_changes(false_alarms_per_30d=10.0))
    assert looser.core is model.core
    assert looser.calibration.budget_per_30d == 10.0
    assert np.all(looser.calibration.cusum_h <= model.calibration.cusum_h)
    assert looser.thresholds["ks"]["c"] < model.thresholds["ks"]["c"]
