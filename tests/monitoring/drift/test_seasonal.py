"""The harmonic F-test p-value: scipy.special.fdtrc in place of scipy.stats.f.sf, same numbers."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from monitoring.drift.seasonal import f_pvalue


@pytest.mark.parametrize("dof", [1, 3, 20, 160, 5000])
def test_f_pvalue_equals_scipy_stats(dof: int) -> None:
    for f_stat in (-3.0, -1e-12, 0.0, 1e-300, 0.3, 1.0, 4.2, 30.0, 1e6, math.inf):
        assert f_pvalue(f_stat, dof) == float(stats.f.sf(f_stat, 2, dof))
    assert math.isnan(f_pvalue(math.nan, dof))
