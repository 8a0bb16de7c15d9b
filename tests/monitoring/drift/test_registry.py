"""The registry is explicit and self-consistent, and every method runs on a real reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitoring.drift import REGISTRY, check_window
from monitoring.drift.config import DEFAULT_MIN_EFFECT
from monitoring.drift.cusum import SIDES
from monitoring.drift.registry import CUSUM_WEIGHTS, DISTANCES, PVALUE_METHODS
from monitoring.drift.results import KINDS
from tests.monitoring.drift.streams import hours


def test_names_unique_display_names_present_weights_sum_to_one() -> None:
    names = [spec.name for spec in REGISTRY]
    assert len(names) == len(set(names))
    assert all(spec.display_name.strip() and spec.description.strip() for spec in REGISTRY)
    assert len({spec.display_name for spec in REGISTRY}) == len(REGISTRY)
    assert all(spec.weight > 0 for spec in REGISTRY)
    assert math.isclose(sum(spec.weight for spec in REGISTRY), 1.0)
    assert math.isclose(sum(CUSUM_WEIGHTS), sum(s.weight for s in REGISTRY if s.needs == "cusum"))


def test_flags_and_tables_agree() -> None:
    """p-value methods are exactly the lower-means-drift ones; every method has a min-effect floor."""
    assert {s.name for s in REGISTRY if not s.higher_means_drift} == set(PVALUE_METHODS)
    assert set(DISTANCES) | set(PVALUE_METHODS) | set(SIDES) == {s.name for s in REGISTRY}
    assert set(DEFAULT_MIN_EFFECT) == {s.name for s in REGISTRY}
    assert {s.kind for s in REGISTRY} <= set(KINDS)
    assert {s.needs for s in REGISTRY} == {"cusum", "window", "trend"}


def _beyond(spec, stat: float, threshold: float) -> bool:
    return stat >= threshold if spec.higher_means_drift else stat < threshold


@pytest.mark.parametrize(("shift", "scale", "slope", "expected"), [
    (0.0, 1.0, 0.0, set()),
    (10.0, 1.0, 0.0, {"drift"}),
    (0.0, 3.0, 0.0, {"drift", "anomaly"}),
    (0.0, 1.0, 5.0, {"drift", "trend"}),
], ids=["clean", "shift-2sd", "sd-x3", "trend-1sd-per-day"])
def test_every_method_runs_and_verdicts_follow_the_direction_flag(
        iid_ref, shift: float, scale: float, slope: float, expected: set[str]) -> None:
    rng = np.random.default_rng(7)
    t = hours(72, iid_ref.next_time)
    days = (t - t[0]) / 86_400.0
    x = 100.0 + shift + slope * days + 5.0 * scale * rng.standard_normal(t.size)
    check = check_window(iid_ref.model, t, x)
    assert [m.name for m in check.methods] == [s.name for s in REGISTRY]
    for spec, result in zip(REGISTRY, check.methods, strict=True):
        assert result.skipped is None, f"{spec.name} skipped: {result.skipped}"
        assert result.kind == spec.kind
        assert math.isfinite(result.statistic) and math.isfinite(result.threshold)
        if result.drifted:
            assert _beyond(spec, result.statistic, result.threshold), spec.name
            assert abs(result.effect_size) >= DEFAULT_MIN_EFFECT[spec.name], spec.name
            assert result.severity in ("info", "warning", "critical")
        else:
            assert result.severity is None
    for verdict in check.kinds:
        flagged = tuple(m.name for m in check.methods if m.kind == verdict.kind and m.drifted)
        assert verdict.methods == flagged and verdict.drifted == bool(flagged)
    assert {k.kind for k in check.kinds if k.drifted} == expected


def test_methods_without_their_input_are_skipped_with_the_reason(iid_ref) -> None:
    t = hours(2, iid_ref.next_time)
    check = check_window(iid_ref.model, t, [100.0, 101.0])
    by_name = {m.name: m for m in check.methods}
    assert by_name["ks"].skipped == "window has 2 pulls; at least 3 needed"
    assert by_name["mann_kendall"].skipped == "trend window filling: 2/10 pulls"
    assert by_name["cusum_location"].skipped is None
