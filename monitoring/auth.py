"""Accounts and logins: bcrypt hashes, roles, lockout, and session revocation.

Lockout is decided here, before any password check, and persists in the store with
an expiry (streamlit-authenticator's own counter never expires and is lost on
restart). A password reset, a disable or a role change bumps the user's session
version and moves ``sessions_valid_from``, which ends live sessions and refuses
login cookies issued before it.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt

from monitoring import events
from monitoring.actors import ADMIN, ANALYST, Actor, require_admin
from monitoring.errors import ValidationError
from monitoring.store import Audit, RuntimeState, Store, User, Users
from monitoring.timeutil import from_ms, iso, to_ms, utcnow

log = logging.getLogger(__name__)

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 8
BCRYPT_ROUNDS = 12
REVOKED_KEY = "revoked_cookies"
MAX_REVOKED = 10_000
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(4)).decode()


def hash_password(password: str, rounds: int | None = None) -> str:
    check_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password.encode()) > 72:
        raise ValidationError("the password must be at most 72 bytes (a bcrypt limit)")


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise ValidationError("a username is 2-32 characters: a letter, then letters, digits, "
                              "'.', '_' or '-'")
    return name


def check_role(role: str) -> str:
    if role not in (ADMIN, ANALYST):
        raise ValidationError(f"role must be '{ADMIN}' or '{ANALYST}'")
    return role


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    message: str
    user: User | None = None
    locked_until: datetime | None = None


_WHAT = {"user.disable": "disable users", "user.enable": "enable users",
         "user.reset_password": "reset passwords", "user.set_role": "change roles",
         "user.unlock": "unlock users"}  # for the refusal message: "ann (analyst) may not ..."


class UserService:
    """User management (admin-only writes) and login checks."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow,
                 max_attempts: int = 5, lockout_minutes: float = 15.0) -> None:
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        self.lockout_minutes = lockout_minutes

    def _now(self) -> int:
        return to_ms(self.clock())

    # -- reads ------------------------------------------------------------------------------
    def get(self, username: str) -> User | None:
        with self.store.read() as conn:
            return Users(conn).get(username)

    def list(self) -> list[User]:
        with self.store.read() as conn:
            return Users(conn).all()

    # -- writes (admin only) ----------------------------------------------------------------
    def add(self, actor: Actor, username: str, role: str, password: str,
            display_name: str | None = None, email: str = "") -> User:
        require_admin(actor, "add users")
        name = check_username(username)
        role = check_role(role)
        hashed = hash_password(password)
        now = self._now()
        with self.store.transaction() as conn:
            users = Users(conn)
            if users.get(name):
                raise ValidationError(f"user '{name}' already exists")
            users.add(name, display_name or name, hashed, role, now, email)
            Audit(conn).add(now, actor.username, "user.add", name, None, {"role": role})
            user = users.get(name)
        assert user is not None
        return user

    def _change(self, actor: Actor, username: str, action: str,
                apply: Callable[[Users, int], None], old: object, new: object) -> None:
        require_admin(actor, _WHAT.get(action, action))
        name = check_username(username)
        now = self._now()
        with self.store.transaction() as conn:
            users = Users(conn)
            if users.get(name) is None:
                raise ValidationError(f"there is no user '{name}'; run 'users list' to see them")
            apply(users, now)
            Audit(conn).add(now, actor.username, action, name, old, new)

    def set_disabled(self, actor: Actor, username: str, disabled: bool) -> None:
        if disabled and check_username(username) == actor.username:
            raise ValidationError("you cannot disable your own account")
        self._change(actor, username, "user.disable" if disabled else "user.enable",
                     lambda users, now: users.set_disabled(username, disabled, now),
                     {"disabled": not disabled}, {"disabled": disabled})

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        hashed = hash_password(password)
        self._change(actor, username, "user.reset_password",
                     lambda users, now: users.set_password(username, hashed, now), None, None)

    def set_role(self, actor: Actor, username: str, role: str) -> None:
        role = check_role(role)
        self._change(actor, username, "user.set_role",
                     lambda users, now: users.set_role(username, role, now), None, {"role": role})

    def unlock(self, actor: Actor, username: str) -> None:
        self._change(actor, username, "user.unlock",
                     lambda users, now: users.unlock(username, now), None, None)

    def ensure_admin(self, password: str | None) -> str | None:
        """First run: create 'admin'. Returns the generated password when none was given."""
        with self.store.read() as conn:
            if Users(conn).count() > 0:
                return None
        generated = None
        if not password:
            generated = password = secrets.token_urlsafe(12)
        system = Actor("system", ADMIN)
        try:
            self.add(system, "admin", ADMIN, password, "Administrator")
        except ValidationError as exc:
            if "already exists" in str(exc):
                return None
            raise ValidationError(f"MONITOR_ADMIN_PASSWORD: {exc}") from exc
        return generated

    # -- logins -----------------------------------------------------------------------------
    def login(self, username: str, password: str) -> LoginResult:
        """Check a login; lockout is checked first and failures are counted in the store."""
        name = (username or "").strip().lower()
        now = self._now()
        user = self.get(name) if USERNAME.match(name) else None
        if user is None:
            verify_password(password or "", _DUMMY_HASH)  # same cost as a real check
            # No name: what was typed as a username is sometimes the password.
            events.emit(events.LOGIN_FAILED, {"reason": "unknown_user"})
            return LoginResult(False, "Username or password is incorrect.")
        if user.locked_until and user.locked_until > now:
            events.emit(events.LOGIN_FAILED, {"reason": "locked", "user": name})
            return self._locked(user, user.locked_until)
        if user.disabled:
            events.emit(events.LOGIN_FAILED, {"reason": "disabled", "user": name})
            return LoginResult(False, "This account is disabled; ask an admin.")
        if not verify_password(password or "", user.password_hash):
            until = now + int(self.lockout_minutes * 60_000)
            with self.store.transaction() as conn:
                Users(conn).record_failure(name, self.max_attempts, until, now)
                fresh = Users(conn).get(name)
            log.warning("login failed", extra={"user": name})
            attempts = {"failed_attempts": fresh.failed_attempts if fresh else None}
            events.emit(events.LOGIN_FAILED, {"reason": "bad_password", "user": name}, attempts)
            if fresh and fresh.locked_until and fresh.locked_until > now:
                log.warning("account locked", extra={"user": name})
                events.emit(events.ACCOUNT_LOCKED, {"user": name,
                                                    "locked_until": iso(from_ms(fresh.locked_until))},
                            attempts)
                return self._locked(fresh, fresh.locked_until)
            return LoginResult(False, "Username or password is incorrect.")
        with self.store.transaction() as conn:
            Users(conn).record_success(name, now)
        return LoginResult(True, "ok", self.get(name))

    def _locked(self, user: User, until_ms: int) -> LoginResult:
        until = from_ms(until_ms)
        minutes = max(1, round(self.lockout_minutes))
        return LoginResult(False, f"This account is locked after {self.max_attempts} failed logins "
                           f"(for {minutes} minutes, until {iso(until)}); try again later or ask an "
                           "admin to unlock it.", user, until)

    def session_ok(self, username: str, session_version: int | None = None,
                   issued_at: datetime | None = None, expires_at: float | None = None) -> User | None:
        """The user if a session (or a cookie issued at ``issued_at``) is still valid.

        ``expires_at`` identifies one login cookie (its JWT expiry, epoch seconds): a cookie
        logged out of is refused even if someone kept a copy of it.
        """
        user = self.get(username) if username else None
        if user is None or user.disabled:
            return None
        if session_version is not None and session_version != user.session_version:
            return None
        if issued_at is not None and to_ms(issued_at) < user.sessions_valid_from:
            return None
        if expires_at is not None and [user.username, float(expires_at)] in self._revoked():
            return None
        return user

    def _revoked(self) -> list[list]:
        with self.store.read() as conn:
            return RuntimeState(conn).get(REVOKED_KEY) or []

    def revoke_cookie(self, username: str, expires_at: float) -> None:
        """Logout: this cookie never logs in again (kept until it would have expired anyway)."""
        now = self._now()
        with self.store.transaction() as conn:
            state = RuntimeState(conn)
            kept = [r for r in state.get(REVOKED_KEY) or [] if r[1] * 1000 > now]
            state.put(REVOKED_KEY, [*kept, [username.lower(), float(expires_at)]][-MAX_REVOKED:], now)

    def lockout_window(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)
