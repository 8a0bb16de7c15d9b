"""User accounts: bcrypt hashes, role, disabled flag, lockout and session version.

Lockout lives here rather than in streamlit-authenticator, whose own counter never
expires and is lost on restart; the session version lets a password reset or a
disable end every existing login cookie.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.store.connection import Connection

ROLES = ("admin", "analyst")


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    email: str
    password_hash: str
    role: str
    disabled: bool
    failed_attempts: int
    locked_until: int | None
    session_version: int
    sessions_valid_from: int
    created_at: int
    updated_at: int


_SELECT = ("SELECT username, display_name, email, password_hash, role, disabled, failed_attempts, "
           "locked_until, session_version, sessions_valid_from, created_at, updated_at FROM users")


def _user(row: tuple) -> User:
    values = list(row)
    values[5] = bool(values[5])
    return User(*values)


class Users:
    """Repository for ``users``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, username: str) -> User | None:
        row = self.conn.execute(_SELECT + " WHERE username = ?", (username.lower(),)).fetchone()
        return _user(row) if row else None

    def all(self) -> list[User]:
        return [_user(r) for r in self.conn.execute(_SELECT + " ORDER BY username")]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM users").fetchone()[0])

    def add(self, username: str, display_name: str, password_hash: str, role: str, at: int,
            email: str = "") -> None:
        self.conn.execute(
            "INSERT INTO users (username, display_name, email, password_hash, role, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username.lower(), display_name, email, password_hash, role, at, at))

    def set_password(self, username: str, password_hash: str, at: int) -> None:
        """New hash, lockout cleared, and every existing session ended."""
        self.conn.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL, "
            "session_version = session_version + 1, sessions_valid_from = ?, updated_at = ? "
            "WHERE username = ?", (password_hash, at, at, username.lower()))

    def set_disabled(self, username: str, disabled: bool, at: int) -> None:
        self.conn.execute(
            "UPDATE users SET disabled = ?, session_version = session_version + 1, "
            "sessions_valid_from = ?, updated_at = ? WHERE username = ?",
            (int(disabled), at, at, username.lower()))

    def set_role(self, username: str, role: str, at: int) -> None:
        self.conn.execute(
            "UPDATE users SET role = ?, session_version = session_version + 1, "
            "sessions_valid_from = ?, updated_at = ? WHERE username = ?",
            (role, at, at, username.lower()))

    def record_failure(self, username: str, max_attempts: int, lock_until: int, at: int) -> int:
        """Count a failed login; lock the account when the count reaches ``max_attempts``."""
        self.conn.execute(
            "UPDATE users SET failed_attempts = failed_attempts + 1, updated_at = ? "
            "WHERE username = ?", (at, username.lower()))
        self.conn.execute(
            "UPDATE users SET locked_until = ?, failed_attempts = 0 WHERE username = ? "
            "AND failed_attempts >= ?", (lock_until, username.lower(), max_attempts))
        row = self.conn.execute("SELECT failed_attempts FROM users WHERE username = ?",
                                (username.lower(),)).fetchone()
        return int(row[0]) if row else 0

    def record_success(self, username: str, at: int) -> None:
        self.conn.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = NULL, updated_at = ? "
            "WHERE username = ?", (at, username.lower()))

    def unlock(self, username: str, at: int) -> None:
        self.record_success(username, at)
