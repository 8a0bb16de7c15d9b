"""Users: bcrypt, roles, lockout with expiry, session revocation, admin-only writes."""

from __future__ import annotations

import pytest

from monitoring.actors import Actor
from monitoring.auth import UserService, verify_password
from monitoring.context import Monitor
from monitoring.errors import PermissionDeniedError, ValidationError
from tests.conftest import ADMIN_PASSWORD

ADMIN = Actor("admin", "admin")


def test_first_run_creates_admin_with_the_given_password(monitor: Monitor) -> None:
    admin = monitor.users.get("admin")
    assert admin.role == "admin" and admin.password_hash.startswith("$2")
    assert verify_password(ADMIN_PASSWORD, admin.password_hash)
    assert monitor.users.ensure_admin("another-password") is None  # only on the first run


def test_generated_first_password_is_returned_once(store, clock) -> None:
    users = UserService(store, clock)
    generated = users.ensure_admin(None)
    assert generated and len(generated) >= 12
    assert users.login("admin", generated).ok
    assert users.ensure_admin(None) is None


def test_lockout_after_five_failures_expires_after_fifteen_minutes(monitor: Monitor, clock) -> None:
    users = UserService(monitor.store, clock, max_attempts=5, lockout_minutes=15)
    users.add(ADMIN, "ann", "analyst", "right-password")
    for _ in range(4):
        assert users.login("ann", "wrong-password").message == "Username or password is incorrect."
    fifth = users.login("ann", "wrong-password")
    assert not fifth.ok and "locked" in fifth.message
    assert "locked" in users.login("ann", "right-password").message  # even the right one
    clock.advance(minutes=14)
    assert not users.login("ann", "right-password").ok
    clock.advance(minutes=2)
    assert users.login("ann", "right-password").ok


def test_unknown_user_and_disabled_user_are_refused(monitor: Monitor) -> None:
    assert not monitor.users.login("nobody", "whatever-pass").ok
    monitor.users.add(ADMIN, "bob", "analyst", "bob-password")
    monitor.users.set_disabled(ADMIN, "bob", True)
    assert "disabled" in monitor.users.login("bob", "bob-password").message


def test_reset_and_disable_end_existing_sessions(monitor: Monitor, clock) -> None:
    user = monitor.users.add(ADMIN, "cy", "analyst", "cy-password1")
    issued = clock()
    assert monitor.users.session_ok("cy", user.session_version, issued)
    clock.advance(minutes=1)
    monitor.users.reset_password(ADMIN, "cy", "cy-password2")
    assert monitor.users.session_ok("cy", user.session_version) is None
    assert monitor.users.session_ok("cy", issued_at=issued) is None
    fresh = monitor.users.get("cy")
    assert monitor.users.session_ok("cy", fresh.session_version, clock())


def test_only_admins_manage_users(monitor: Monitor) -> None:
    with pytest.raises(PermissionDeniedError):
        monitor.users.add(Actor("ann", "analyst"), "dan", "admin", "dan-password")
    with pytest.raises(PermissionDeniedError):
        monitor.users.set_disabled(Actor("ann", "analyst"), "admin", True)


@pytest.mark.parametrize(("name", "role", "password", "message"), [
    ("x", "analyst", "long-enough", "2-32 characters"),
    ("ok_name", "root", "long-enough", "role must be"),
    ("ok_name", "analyst", "short", "at least 8"),
])
def test_user_input_is_validated(monitor: Monitor, name, role, password, message) -> None:
    with pytest.raises(ValidationError, match=message):
        monitor.users.add(ADMIN, name, role, password)


def test_admin_cannot_disable_themselves(monitor: Monitor) -> None:
    with pytest.raises(ValidationError, match="your own account"):
        monitor.users.set_disabled(ADMIN, "admin", True)


def test_a_logged_out_cookie_is_refused_even_if_copied(monitor, clock) -> None:
    from monitoring.actors import SYSTEM

    monitor.users.add(SYSTEM, "ann", "analyst", "ann-password-1")
    users = monitor.user_service()
    expiry = clock().timestamp() + 86_400
    assert users.session_ok("ann", expires_at=expiry) is not None
    users.revoke_cookie("ANN", expiry)
    assert users.session_ok("ann", expires_at=expiry) is None
    assert users.session_ok("ann", expires_at=expiry + 1) is not None  # another login still works
    clock.advance(days=2)
    users.revoke_cookie("ann", clock().timestamp() + 60)  # pruning: expired entries are dropped
    from monitoring.auth import REVOKED_KEY
    from monitoring.store import RuntimeState

    with monitor.store.read() as conn:
        assert [r[1] for r in RuntimeState(conn).get(REVOKED_KEY)] == [clock().timestamp() + 60]
