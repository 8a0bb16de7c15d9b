"""CUSUM recursion, its reference values and gates by hand; detection and change-start on a shift."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift import initial_state, update
from monitoring.drift.config import DEFAULT_MIN_EFFECT
from monitoring.drift.cusum import effect_of, gate_scores, path, reference_values, signed_scores, step
from monitoring.drift.pulls import parse_time
from tests.monitoring.drift.streams import HOUR, hours


def test_path_by_hand() -> None:
    # k = 0.5: 0 + 1 - .5 = .5; .5 + 2 - .5 = 2; max(0, 2 - 3 - .5) = 0; max(0, 0 + .5 - .5) = 0
    assert path(np.array([1.0, 2.0, -3.0, 0.5]), 0.5).tolist() == [0.5, 2.0, 0.0, 0.0]
    assert path(np.array([3.0, 3.0, 3.0]), 0.0, cap=4.0).tolist() == [3.0, 4.0, 4.0]


def test_step_is_the_vectorised_path() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    s = np.zeros(3)
    for row in x:
        s = step(s, row, 0.25, 5.0)
    assert s.tolist() == pytest.approx([path(x[:, i], 0.25, 5.0)[-1] for i in range(3)])


def test_signed_scores_interleave_up_and_down() -> None:
    u = np.array([[1.0, 2.0, 3.0, 4.0]])
    assert signed_scores(u).tolist() == [[1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0]]


def test_gates_by_hand() -> None:
    # scale gate 0.1 = |log sd ratio|: sd x e^0.1 moves He2 by (e^0.2 - 1)/sqrt 2, sd x e^-0.1 by
    # (1 - e^-0.2)/sqrt 2; the smaller, 0.181269/1.414214 = 0.128176, is the gate
    assert gate_scores(DEFAULT_MIN_EFFECT).tolist() == pytest.approx([0.2, 0.128176, 0.1, 0.1], abs=1e-6)


def test_reference_values_design_for_single_rows_and_gate_for_big_batches() -> None:
    gates = gate_scores(DEFAULT_MIN_EFFECT)
    zero, one = np.zeros(4), np.ones(4)
    # one row per pull: sd 1, k = half the canonical change (1 each), capped at .5
    single = reference_values(zero, one, 1.0, 0.5, gates)
    assert single.tolist() == pytest.approx([0.5] * 8)
    # a capped design leaves room below: k_max 0.4 gives 0.4 everywhere, k_max 1 gives 0.5
    assert reference_values(zero, one, 1.0, 0.4, gates).tolist() == pytest.approx([0.4] * 8)
    assert reference_values(zero, one, 1.0, 1.0, gates).tolist() == pytest.approx([0.5] * 8)
    # 100 rows per pull: sd of a pull mean 0.1, so the min-effect gate (gate / 0.1) dominates
    big = reference_values(zero, one, 100.0, 0.5, gates)
    assert big.tolist() == pytest.approx(np.repeat(gates / 0.1, 2).tolist())


def test_scale_effect_is_the_log_sd_ratio() -> None:
    # variance x4: mean He2 score (z^2 - 1)/sqrt 2 = 3/sqrt 2 -> 0.5 ln(1 + 3) = ln 2
    assert effect_of("cusum_scale", 2, 3 / np.sqrt(2)) == pytest.approx(np.log(2.0))
    assert effect_of("cusum_location", 0, 0.7) == 0.7


def test_a_one_sd_shift_is_caught_and_dated(iid_ref) -> None:
    model = iid_ref.model
    rng = np.random.default_rng(100)
    t = hours(120, iid_ref.next_time)
    x = 100.0 + 5.0 * rng.standard_normal(t.size)
    x[48:] += 5.0  # +1 reference sd from pull 48 on
    state, first = initial_state(model), None
    for i in range(t.size):
        state, check = update(model, state, t[i], [x[i]])
        result = check.method("cusum_location")
        if i < 48:
            assert not result.drifted, f"false alarm at pull {i}"
        elif result.drifted:
            first = result
            break
    assert first is not None, "a 1 sd shift was not caught within 72 pulls"
    assert first.details["direction"] == "location up"
    assert abs(parse_time(first.details["change_started_at"]) - t[48]) <= 12 * HOUR
    assert 0.7 < first.effect_size < 1.5
    assert first.statistic >= 1.0 and first.severity == "critical"


def test_sums_stay_below_threshold_on_clean_pulls(iid_ref) -> None:
    model = iid_ref.model
    rng = np.random.default_rng(101)
    t = hours(200, iid_ref.next_time)
    x = 100.0 + 5.0 * rng.standard_normal(t.size)
    state = initial_state(model)
    for i in range(t.size):
        state, check = update(model, state, t[i], [x[i]])
        for name in ("cusum_location", "cusum_scale", "cusum_shape"):
            assert not check.method(name).drifted
    assert max(state.sums) > 0  # the sums did move; they just never reached a threshold
