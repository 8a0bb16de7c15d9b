"""A soft time limit on one cycle's drift work, and a record of what it left for later.

Why: after a large history import, the first cycle would freeze every field's reference
(a bootstrap of seconds per field) and check every imported pull before returning: 25 s
for a million rows, longer for a year. A cycle instead does a bounded share. The pull
is stored first, so none of this delays data. Checking and reference fits continue in
the next passes: the scheduler runs them straight after the cycle, and
``run-once --catch-up`` runs them from the command line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Budget:
    """``seconds`` of drift work (None: no limit); at least one unit of work always runs.

    A unit is one reference fit or one pull checked. Fits are not interruptible, so a
    pass can overrun by one fit. ``timer`` is injectable so tests never sleep.
    """

    seconds: float | None
    timer: Callable[[], float] = time.monotonic
    worked: bool = False
    deferred: dict[str, str] = field(default_factory=dict)  # field -> what is left for it
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.timer()

    def spent(self) -> bool:
        """True once some work was done and the time is up."""
        return (self.seconds is not None and self.worked
                and self.timer() - self.started >= self.seconds)

    def defer(self, name: str, what: str) -> None:
        self.deferred[name] = what

    @property
    def elapsed(self) -> float:
        return self.timer() - self.started
