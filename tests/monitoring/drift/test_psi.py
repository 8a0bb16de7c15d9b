"""PSI on fixed bins, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.drift import check_window
from monitoring.drift.core import PSI_BINS
from monitoring.drift.psi import bin_proportions, psi, smoothed
from tests.monitoring.drift.streams import hours


def test_bins_are_left_closed_with_open_ends() -> None:
    # bins: (-inf, 0), [0, 1), [1, 2), [2, inf)
    values = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    props = bin_proportions(np.array([0.0, 1.0, 2.0]), values)
    assert props.tolist() == pytest.approx([1 / 7, 2 / 7, 2 / 7, 2 / 7])


def test_weighted_bins_count_weights_not_rows() -> None:
    props = bin_proportions(np.array([0.0]), np.array([-1.0, 1.0]), np.array([3.0, 1.0]))
    assert props.tolist() == pytest.approx([0.75, 0.25])


def test_psi_on_known_bins() -> None:
    # sum (c - r) ln(c / r) for r = 1/4 each, c = (.1, .2, .3, .4), term by term:
    # -0.15 ln 0.4 = 0.137444, -0.05 ln 0.8 = 0.011157, 0.05 ln 1.2 = 0.009116, 0.15 ln 1.6 = 0.070501
    assert psi([0.25] * 4, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.228218, abs=1e-6)


def test_psi_is_symmetric_and_zero_for_equal_bins() -> None:
    a, b = [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]
    assert psi(a, b) == pytest.approx(psi(b, a))
    assert psi(a, a) == 0.0


def test_an_empty_bin_is_floored_not_infinite() -> None:
    # 0.5 ln 2 + (1e-4 - 0.5) ln(1e-4 / 0.5) = 0.346574 + 4.257745
    assert psi([0.5, 0.5], [1.0, 0.0]) == pytest.approx(4.604319, abs=1e-6)


def test_window_proportions_get_half_a_row_per_bin() -> None:
    # 4 rows in bins (0, 1, 3, 0) of 4 bins: (0 + .5, 1 + .5, 3 + .5, 0 + .5) / (4 + 2)
    props = smoothed(np.array([0.0, 0.25, 0.75, 0.0]), 4)
    assert props.tolist() == pytest.approx([0.5 / 6, 1.5 / 6, 3.5 / 6, 0.5 / 6])
    assert props.sum() == pytest.approx(1.0)


def test_one_empty_bin_in_a_small_window_is_not_an_outlier() -> None:
    """A bin emptying by chance in a 120-row window moves PSI by its evidence, not by a jump.

    Unsmoothed, 0 rows in a bin gives 0.70 against 0.24 for 1 row: the floor, not the data,
    decides, and the step from 1 row to 0 is 6x the step from 2 to 1. Smoothed, it is 2x.
    """
    ref = np.full(10, 0.1)

    def window(k: int) -> np.ndarray:  # k of 120 rows in the first bin, the rest spread evenly
        return np.r_[k / 120, np.full(9, (1 - k / 120) / 9)]

    def step_ratio(values: list[float]) -> float:
        return (values[0] - values[1]) / (values[1] - values[2])

    raw = [psi(ref, window(k)) for k in (0, 1, 2)]
    assert raw[0] > 0.7 and step_ratio(raw) > 5
    assert step_ratio([psi(ref, smoothed(window(k), 120)) for k in (0, 1, 2)]) < 2.5


def test_reference_bins_are_deciles_of_the_reference(iid_ref) -> None:
    core = iid_ref.model.core
    assert core.edges.size == PSI_BINS - 1
    assert core.ref_props == pytest.approx(np.full(PSI_BINS, 1 / PSI_BINS), abs=0.01)


def test_method_uses_the_reference_bins(iid_ref) -> None:
    """A window entirely above the reference's top decile puts all its mass in the last bin."""
    model = iid_ref.model
    t = hours(24, iid_ref.next_time)
    x = np.full(t.size, iid_ref.values.max() + 10.0)
    result = check_window(model, t, x).method("psi")
    expected = psi(model.core.ref_props, smoothed(np.r_[np.zeros(PSI_BINS - 1), 1.0], t.size))
    assert result.statistic == pytest.approx(expected)
    assert result.drifted and result.severity == "critical"
