"""Who is acting, and the role checks every write goes through.

streamlit-authenticator returns roles but enforces nothing, so services check the
actor's role themselves: a hidden button is a convenience, this is the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.errors import PermissionDeniedError

ADMIN = "admin"
ANALYST = "analyst"


@dataclass(frozen=True)
class Actor:
    """A user (or the system) performing an action."""

    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


SYSTEM = Actor("system", ADMIN)


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError(f"{actor.username} ({actor.role}) may not {action}: "
                                    "only admins can; ask an admin")


def require_user(actor: Actor, action: str) -> None:
    if actor.role not in (ADMIN, ANALYST):
        raise PermissionDeniedError(f"{actor.username} may not {action}")
