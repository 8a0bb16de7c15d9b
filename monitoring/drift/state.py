"""Per-field detector state: small, JSON-serialisable, persisted after every pull.

It holds the AR memory, the eight CUSUMs with their excursion start and effect
accumulators, a thinned window of recent residuals (at most ``window_row_cap``
values, each pull reduced to evenly spaced order statistics, so its distribution is
kept), the pull-level series for the trend test, and each recent pull's row and
outlier counts (for outlier rates over longer horizons than the window). Residuals are stored rounded
to 1e-4 reference sd at insertion, so a state that went through JSON gives exactly
the same next check as one kept in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

STATE_VERSION = 1
DECIMALS = 4


@dataclass(frozen=True)
class WindowPull:
    time: float
    rows: int
    outliers: int
    values: tuple[float, ...]


def thin(resid: np.ndarray, cap: int) -> np.ndarray:
    """Sorted residuals, reduced to ``cap`` evenly spaced order statistics when longer; rounded."""
    s = np.sort(resid)
    if s.size > cap:
        s = s[((np.arange(cap) + 0.5) * s.size / cap).astype(np.int64)]
    return np.round(s, DECIMALS)


@dataclass(frozen=True)
class DetectorState:
    """Everything carried from one pull to the next for one field and one reference."""

    pulls_seen: int
    last_time: float | None
    history: tuple[float, ...]
    sums: tuple[float, ...]
    starts: tuple[float | None, ...]
    effect_sums: tuple[float, ...]
    effect_counts: tuple[int, ...]
    window: tuple[WindowPull, ...]
    trend: tuple[tuple[float, float, float], ...]
    counts: tuple[tuple[int, int], ...] = ()  # (rows, outliers) per pull, oldest first
    version: int = STATE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "pulls_seen": self.pulls_seen, "last_time": self.last_time,
                "history": list(self.history), "sums": list(self.sums), "starts": list(self.starts),
                "effect_sums": list(self.effect_sums), "effect_counts": list(self.effect_counts),
                "window": [{"t": w.time, "n": w.rows, "o": w.outliers, "r": list(w.values)}
                           for w in self.window],
                "trend": [list(x) for x in self.trend], "counts": [list(c) for c in self.counts]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DetectorState:
        return cls(int(d["pulls_seen"]), d["last_time"], tuple(d["history"]), tuple(d["sums"]),
                   tuple(d["starts"]), tuple(d["effect_sums"]), tuple(int(x) for x in d["effect_counts"]),
                   tuple(WindowPull(float(w["t"]), int(w["n"]), int(w["o"]), tuple(w["r"]))
                         for w in d["window"]),
                   tuple((float(a), float(b), float(c)) for a, b, c in d["trend"]),
                   # states saved before the counts existed start them empty
                   tuple((int(n), int(o)) for n, o in d.get("counts", ())), int(d["version"]))
