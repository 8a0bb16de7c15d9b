"""``baseline FIELD --start ISO --end ISO [--note TEXT]`` and ``baseline FIELD --list``.

The CLI acts as ``CLI_ACTOR`` (whoever runs it can read the key, so it is an admin)
and goes through the same audited service as the settings page.
"""

from __future__ import annotations

import argparse

from monitoring.cli.common import CLI_ACTOR, monitor
from monitoring.errors import ValidationError
from monitoring.store import ReferenceRecord
from monitoring.timeutil import from_ms, iso, parse_iso


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("baseline", help="re-baseline a field's drift reference on a date range "
                                             "(audited), or --list its versions")
    parser.add_argument("field", help="monitored output, e.g. archived_gb_predicted")
    parser.add_argument("--start", help="first moment of the range, ISO 8601 with a zone (inclusive)")
    parser.add_argument("--end", help="end of the range, ISO 8601 with a zone (exclusive)")
    parser.add_argument("--note", default=None, help="why: shown with the version and in the audit log")
    parser.add_argument("--list", action="store_true",
                        help="list the field's reference versions, newest first")
    parser.set_defaults(handler=_baseline)


def _line(record: ReferenceRecord) -> str:
    return (f"v{record.version} {record.status:<7} {iso(from_ms(record.start_at))} .. "
            f"{iso(from_ms(record.end_at))} {record.n_rows} rows ({record.sources}), "
            f"by {record.created_by} at {iso(from_ms(record.created_at))}"
            + (f": {record.note}" if record.note else ""))


def _baseline(args: argparse.Namespace) -> int:
    from monitoring.baseline import rebaseline, references

    if args.list:
        if args.start or args.end or args.note:
            raise ValidationError("--list takes only the field; drop --start/--end/--note")
        records = references(monitor(), args.field)
        if not records:
            print(f"{args.field} has no drift reference yet")
        for record in records:
            print(_line(record))
        return 0
    if not args.start or not args.end:
        raise ValidationError("give the range with --start and --end (ISO 8601, e.g. 2026-01-05T00:00:00Z), "
                              "or --list to see the versions")
    m = monitor()
    record = rebaseline(m, CLI_ACTOR, args.field, parse_iso(args.start), parse_iso(args.end), args.note)
    print(f"re-baselined {args.field}: {_line(record)}; detection continues after the last pull checked")
    return 0
