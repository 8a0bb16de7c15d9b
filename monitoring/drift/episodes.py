"""Alert-episode semantics as a pure state machine, so replay and the alert manager agree.

Fingerprint = field + kind. A check whose kind flags opens an episode when none is
open for that fingerprint; while open, further flags update it (the severity keeps
its worst value, a higher one is an escalation) and reset the clean streak; it
resolves itself after ``resolve_after`` consecutive clean checks. A skipped check
neither flags nor counts as clean. This mirrors ``monitoring.alerts.apply_signals``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from monitoring.drift.results import SEVERITIES, FieldCheck


@dataclass(frozen=True)
class Episode:
    field: str
    kind: str
    opened_at: float
    severity: str
    last_seen_at: float
    methods: tuple[str, ...]
    clean_streak: int = 0
    count: int = 1

    @property
    def fingerprint(self) -> str:
        return f"drift:{self.field}:{self.kind}"


@dataclass(frozen=True)
class EpisodeEvent:
    action: str  # opened | updated | escalated | resolved
    episode: Episode
    at: float


def step(current: Episode | None, field: str, kind: str, firing: bool, at: float, severity: str | None,
         methods: tuple[str, ...], resolve_after: int) -> tuple[Episode | None, EpisodeEvent | None]:
    """Next episode state for one fingerprint after one check, and what happened."""
    if firing:
        sev = severity or "warning"
        if current is None:
            ep = Episode(field, kind, at, sev, at, methods)
            return ep, EpisodeEvent("opened", ep, at)
        escalated = SEVERITIES.index(sev) > SEVERITIES.index(current.severity)
        ep = replace(current, severity=sev if escalated else current.severity, last_seen_at=at,
                     methods=tuple(dict.fromkeys(current.methods + methods)), clean_streak=0,
                     count=current.count + 1)
        return ep, EpisodeEvent("escalated" if escalated else "updated", ep, at)
    if current is None:
        return None, None
    streak = current.clean_streak + 1
    if streak >= resolve_after:
        return None, EpisodeEvent("resolved", replace(current, clean_streak=streak), at)
    return replace(current, clean_streak=streak), None


class EpisodeTracker:
    """Open episodes keyed by fingerprint; feed it every ``FieldCheck`` in time order."""

    def __init__(self, resolve_after: int, open_episodes: Mapping[str, Episode] | None = None) -> None:
        self.resolve_after = resolve_after
        self.open: dict[str, Episode] = dict(open_episodes or {})

    def apply(self, check: FieldCheck) -> list[EpisodeEvent]:
        if check.status != "ok":
            return []
        events = []
        for verdict in check.kinds:
            key = f"drift:{check.field}:{verdict.kind}"
            ep, event = step(self.open.get(key), check.field, verdict.kind, verdict.drifted, check.at,
                             verdict.severity, verdict.methods, self.resolve_after)
            if ep is None:
                self.open.pop(key, None)
            else:
                self.open[key] = ep
            if event is not None:
                events.append(event)
        return events

    def apply_all(self, checks: Iterable[FieldCheck]) -> list[EpisodeEvent]:
        return [e for c in checks for e in self.apply(c)]
