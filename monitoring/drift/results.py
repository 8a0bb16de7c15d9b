"""Frozen, JSON-ready results: one ``MethodResult`` per method, one ``FieldCheck`` per pull.

The pipeline stores ``FieldCheck.to_dict()`` as a drift run and turns ``kinds`` into
alert signals (fingerprint = field + kind); the drift page reads the same dicts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitoring.drift.pulls import iso, parse_time

KINDS = ("drift", "anomaly", "trend")
SEVERITIES = ("info", "warning", "critical")


def severity_for(effect: float | None, cuts: tuple[float, float]) -> str:
    """info below the first cut, warning below the second, else critical (on |effect|)."""
    size = abs(effect) if effect is not None and math.isfinite(effect) else 0.0
    return "critical" if size >= cuts[1] else "warning" if size >= cuts[0] else "info"


def worst(severities: Sequence[str | None]) -> str | None:
    ranked = [s for s in severities if s]
    return max(ranked, key=SEVERITIES.index) if ranked else None


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class MethodResult:
    """Value and verdict of one method; ``skipped`` holds the reason when it could not run."""

    name: str
    kind: str
    statistic: float | None = None
    threshold: float | None = None
    drifted: bool = False
    effect_size: float | None = None
    p_value: float | None = None
    severity: str | None = None
    skipped: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "statistic": _num(self.statistic),
                "threshold": _num(self.threshold), "drifted": bool(self.drifted),
                "effect_size": _num(self.effect_size), "p_value": _num(self.p_value),
                "severity": self.severity, "skipped": self.skipped, "details": dict(self.details)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MethodResult:
        return cls(**{**d, "details": dict(d.get("details") or {})})

    @classmethod
    def skip(cls, name: str, kind: str, reason: str) -> MethodResult:
        return cls(name=name, kind=kind, skipped=reason)


@dataclass(frozen=True)
class KindVerdict:
    """Whether any method of one kind flagged, the worst severity, and which methods."""

    kind: str
    drifted: bool
    severity: str | None
    methods: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "drifted": self.drifted, "severity": self.severity,
                "methods": list(self.methods)}


def verdicts(results: Sequence[MethodResult]) -> tuple[KindVerdict, ...]:
    out = []
    for kind in KINDS:
        flagged = [r for r in results if r.kind == kind and r.drifted]
        out.append(KindVerdict(kind, bool(flagged), worst([r.severity for r in flagged]),
                               tuple(r.name for r in flagged)))
    return tuple(out)


@dataclass(frozen=True)
class FieldCheck:
    """Everything one check of one field concluded, at pull time ``at`` (epoch seconds)."""

    field: str
    at: float
    status: str
    methods: tuple[MethodResult, ...]
    kinds: tuple[KindVerdict, ...]
    reason: str | None = None
    pull_rows: int = 0

    @property
    def drifted(self) -> bool:
        return any(k.drifted for k in self.kinds)

    @property
    def severity(self) -> str | None:
        return worst([k.severity for k in self.kinds if k.drifted])

    def kind(self, name: str) -> KindVerdict:
        return next(k for k in self.kinds if k.kind == name)

    def method(self, name: str) -> MethodResult:
        return next(m for m in self.methods if m.name == name)

    @classmethod
    def make(cls, field_name: str, at: float, methods: Sequence[MethodResult], pull_rows: int) -> FieldCheck:
        return cls(field_name, float(at), "ok", tuple(methods), verdicts(methods), None, pull_rows)

    @classmethod
    def skipped(cls, field_name: str, at: float, reason: str,
                methods: Sequence[MethodResult] = ()) -> FieldCheck:
        """A check that did not run (e.g. the reference is still too small), with the reason shown."""
        return cls(field_name, float(at), "skipped", tuple(methods), verdicts(()), reason, 0)

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "at": iso(self.at), "status": self.status, "reason": self.reason,
                "drifted": self.drifted, "severity": self.severity, "pull_rows": self.pull_rows,
                "kinds": [k.to_dict() for k in self.kinds],
                "methods": [m.to_dict() for m in self.methods]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FieldCheck:
        kinds = tuple(KindVerdict(k["kind"], k["drifted"], k["severity"], tuple(k["methods"]))
                      for k in d["kinds"])
        return cls(d["field"], parse_time(d["at"]), d["status"],
                   tuple(MethodResult.from_dict(m) for m in d["methods"]), kinds, d.get("reason"),
                   int(d.get("pull_rows", 0)))
