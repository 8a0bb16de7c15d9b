"""A string wrapper that never shows its value by accident.

``str()``, ``repr()`` and f-strings print a mask; only ``reveal()`` gives the value, so
a secret can travel through dataclasses and log calls without leaking.
"""

from __future__ import annotations


class Secret:
    """Holds a secret value; masks it everywhere except ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)
