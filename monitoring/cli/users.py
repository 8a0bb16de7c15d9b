"""``users add|disable|enable|reset-password|unlock|list``."""

from __future__ import annotations

import argparse

from monitoring.cli.common import CLI_ACTOR, monitor, read_secret
from monitoring.timeutil import from_ms, iso


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage dashboard users")
    verbs = users.add_subparsers(dest="verb", required=True, metavar="VERB")

    add = verbs.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", choices=("analyst", "admin"), default="analyst")
    add.add_argument("--display-name", default=None)
    add.add_argument("--email", default="")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from stdin (prompted when stdin is a terminal)")
    add.set_defaults(handler=_add)

    for verb, handler, text in (("disable", _disable, "disable a user and end their sessions"),
                                ("enable", _enable, "enable a disabled user"),
                                ("unlock", _unlock, "clear a login lockout")):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("name")
        parser.set_defaults(handler=handler)

    reset = verbs.add_parser("reset-password", help="set a new password and end sessions")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true")
    reset.set_defaults(handler=_reset)

    listing = verbs.add_parser("list", help="list users")
    listing.set_defaults(handler=_list)


def _add(args: argparse.Namespace) -> int:
    password = read_secret(f"password for {args.name}: ", args.password_stdin)
    user = monitor().users.add(CLI_ACTOR, args.name, args.role, password, args.display_name,
                               args.email)
    print(f"added {user.username} ({user.role})")
    return 0


def _disable(args: argparse.Namespace) -> int:
    monitor().users.set_disabled(CLI_ACTOR, args.name, True)
    print(f"disabled {args.name.lower()}; their sessions have ended")
    return 0


def _enable(args: argparse.Namespace) -> int:
    monitor().users.set_disabled(CLI_ACTOR, args.name, False)
    print(f"enabled {args.name.lower()}")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    monitor().users.unlock(CLI_ACTOR, args.name)
    print(f"unlocked {args.name.lower()}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    password = read_secret(f"new password for {args.name}: ", args.password_stdin)
    monitor().users.reset_password(CLI_ACTOR, args.name, password)
    print(f"password of {args.name.lower()} changed; their sessions have ended")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = monitor().users.list()
    print(f"{'username':20s} {'role':8s} {'state':10s} locked until")
    for user in rows:
        state = "disabled" if user.disabled else "active"
        locked = iso(from_ms(user.locked_until)) if user.locked_until else "-"
        print(f"{user.username:20s} {user.role:8s} {state:10s} {locked}")
    return 0
