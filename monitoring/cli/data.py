"""``run-once``, ``import FILE.csv``, ``replay``: the data commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitoring.cli.common import monitor


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run-once", help="run one pull cycle now (exit 0 even if the endpoint failed)")
    parser.add_argument("--catch-up", action="store_true",
                        help="then finish the drift work the cycle's time budget deferred "
                             "(reference fits and checks after a large import)")
    parser.set_defaults(handler=_run_once)

    parser = sub.add_parser("import", help="backfill history from a CSV (predicted_at + field columns)")
    parser.add_argument("file", type=Path)
    parser.set_defaults(handler=_import)

    parser = sub.add_parser("replay", help="replay a history CSV through the cycle on a throwaway store")
    parser.add_argument("--input", type=Path, required=True, help="CSV: predicted_at + field columns")
    parser.add_argument("--output", type=Path, required=True, help="JSONL: one line per alert episode")
    parser.add_argument("--settings", type=Path, default=None,
                        help="JSON object of settings to replay with (validated like the settings page)")
    parser.add_argument("--quiet", action="store_true", help="no summary line")
    parser.set_defaults(handler=_replay)


def _run_once(args: argparse.Namespace) -> int:
    from monitoring.lifecycle import build_pipeline

    m = monitor()
    pipeline = build_pipeline(m)
    now = m.clock()
    report = pipeline.run_cycle(now, "manual")
    pull = report.pull
    if pull is None:
        print(f"cycle {report.cycle_id}: the pull could not be stored: {'; '.join(report.errors)}")
    else:
        line = (f"cycle {report.cycle_id}: pull {pull.outcome} from {pull.source}, {pull.rows_stored} rows "
                f"stored, {pull.rows_rejected} quarantined, {len(report.changes.opened)} alert(s) opened "
                f"in {report.duration_ms:.0f} ms")
        if pull.error:
            line += f"; error: {pull.error}"
        print(line)
    deferred = report.drift_deferred
    if deferred and args.catch_up:
        done = pipeline.catch_up(now)
        print(f"drift catch-up: {done.checks} pull check(s) in {done.passes} pass(es), "
              f"{len(done.changes.opened)} alert(s) opened, {done.seconds:.1f} s"
              + (f"; error: {done.error}" if done.error else ""))
        deferred = done.deferred
    if deferred:
        print("drift work deferred by the cycle's time budget (the scheduler catches up straight after "
              "its cycle; `python -m monitoring run-once --catch-up` does it now):")
        for name, what in deferred.items():
            print(f"  {name}: {what}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from monitoring.importer import import_csv

    result = import_csv(monitor(), args.file)
    print(f"imported {args.file}: {result.stored} rows stored, {result.rejected} quarantined, "
          f"{result.duplicates} already present ({', '.join(result.fields)})")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from monitoring.replay import episode_line, load_settings_file, read_pulls, replay

    settings = load_settings_file(args.settings)
    pulls, fields = read_pulls(args.input)
    result = replay(pulls, fields, settings)
    with open(args.output, "w", encoding="utf-8") as out:
        for alert in result.opened:
            out.write(json.dumps(episode_line(alert)) + "\n")
    if not args.quiet:
        print(result.summary(), file=sys.stderr)
    return 0
