"""Turning a statistic into a verdict: calibrated threshold AND a practically relevant effect.

Why both: a calibrated threshold shrinks like 1/sqrt(n), so with a million rows it
flags differences nobody cares about; the effect-size floor (``min_effect``) stops
that, while the calibrated threshold stops noise on small windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.drift.results import MethodResult, severity_for


def scaled_threshold(c: float, n_h: float, power: int) -> float:
    """Statistic threshold from a size-free one: stat**power * n_h > c."""
    return float((c / max(n_h, 1e-12)) ** (1.0 / power))


def distance_result(name: str, kind: str, stat: float, n_h: float, power: int,
                    params: Mapping[str, Any], override: float | None, default: float,
                    min_effect: float, cuts: tuple[float, float], p_value: float | None = None,
                    details: Mapping[str, Any] | None = None) -> MethodResult:
    """Verdict for a higher-means-drift distance with a size-scaled calibrated threshold."""
    if override is not None:
        threshold, source = float(override), "override"
    elif "c" in params:
        threshold, source = scaled_threshold(float(params["c"]), n_h, power), "calibrated"
    else:
        threshold, source = default, "default"
    drifted = bool(stat > threshold and stat >= min_effect)
    info = {"threshold_source": source, "n_effective": round(n_h, 1), "min_effect": min_effect}
    info.update(details or {})
    return MethodResult(name=name, kind=kind, statistic=stat, threshold=threshold, drifted=drifted,
                        effect_size=stat, p_value=p_value,
                        severity=severity_for(stat, cuts) if drifted else None, details=info)
