"""The operator guides name only commands and options that exist.

Every ``python -m monitoring ...`` line in a fenced code block of README.md,
DEPLOYMENT_GUIDE.md and OPERATIONAL_RUNBOOK.md, and every inline `code span` in their prose
that holds one (also when the span wraps onto the next line), is parsed into its subcommand (and verb,
e.g. ``users add``) and the ``--options`` it uses. Each distinct subcommand then runs once
as a real process with ``--help``: it must exit 0, and its help must list every option the
guides write for it. A renamed command or option therefore fails here, not in front of an
operator. README's shorthand (``users disable|enable|unlock NAME``,
``backup PATH | restore PATH | rekey | check``) is understood as alternatives.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitoring.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ("DEPLOYMENT_GUIDE.md", "OPERATIONAL_RUNBOOK.md")
DOCS = ("README.md", *GUIDES)
FENCE = re.compile(r"^\s*(```|~~~)")
# `python -m monitoring`, also as .venv/bin/python, python3, or after `|`, `;`, `$(`, an env prefix
INVOCATION = re.compile(r"(?:^|(?<=[\s;|&(`]))(?:[\w./~$-]*/)?python3?\s+-m\s+monitoring(?=\s|$)")
SUBSTITUTION = re.compile(r"\$\([^()]*\)")
# where the monitoring command ends: a comment, a command separator, a redirection, a subshell's end
END = re.compile(r"\s#|;|&&|\|\||\d?>|\s<\s|\)|`")
PIPE = re.compile(r"\s\|\s")


def _tree(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """Top-level command -> its verbs (empty for commands without verbs), from the real parser."""
    def subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    return {name: set(subparsers(sub)) for name, sub in subparsers(parser).items()}


TREE = _tree(build_parser())


@dataclass(frozen=True)
class Use:
    """One subcommand as a document writes it: where, the command path and its options."""

    doc: str
    line: int
    text: str
    path: tuple[str, ...]
    flags: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}: {self.text.strip()}"


def code_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, logical line) inside fenced code blocks; backslash continuations joined."""
    inside, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            inside, pending = not inside, ""
            continue
        if not inside:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""


INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")


def inline_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, span) for inline code spans outside fenced blocks that run the CLI."""
    prose, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            prose.append("")
            continue
        prose.append("" if inside else line)
    # ``double`` spans may hold single backticks: blank them out (keeping line numbers)
    joined = re.sub(r"``.*?``", lambda m: re.sub(r"[^\n]", " ", m.group(0)), "\n".join(prose), flags=re.S)
    for match in INLINE.finditer(joined):
        span = " ".join(match.group(1).split())  # a span may wrap onto the next line
        if INVOCATION.search(span):
            yield joined.count("\n", 0, match.start()) + 1, span


def _tokens(segment: str) -> list[str]:
    try:
        words = shlex.split(segment)
    except ValueError:  # an unbalanced quote in an example: plain words are good enough
        words = segment.split()
    return [w.strip("[]") for w in words if w.strip("[]")]


def _flags(words: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w.split("=", 1)[0].rstrip(",.") for w in words if w.startswith("--")))


def parse_uses(doc: str, text: str, tree: dict[str, set[str]] = TREE) -> list[Use]:
    """Every monitoring subcommand used in ``text``'s code blocks, alternatives expanded."""
    uses: list[Use] = []
    lines = sorted([*code_lines(text), *inline_lines(text)], key=lambda item: item[0])
    for number, line in lines:
        for match in INVOCATION.finditer(line):
            rest = line[match.end():]
            while SUBSTITUTION.search(rest):
                rest = SUBSTITUTION.sub("X", rest)
            cut = END.search(rest)
            rest = rest[:cut.start()] if cut else rest
            segments = PIPE.split(rest)
            commands = [segments[0]]
            for segment in segments[1:]:  # README: `backup PATH | restore PATH | rekey | check`
                first = (_tokens(segment) or [""])[0]
                if first.split("|")[0] not in tree:
                    break  # a real pipe into another program
                commands.append(segment)
            for segment in commands:
                words = _tokens(segment)
                if words and words[0].isupper():  # a placeholder: `python -m monitoring COMMAND --help`
                    continue
                if not words or words[0].startswith("-"):  # `python -m monitoring --help`
                    uses.append(Use(doc, number, line, (), _flags(words)))
                    continue
                for top in words[0].split("|"):
                    verbs = tree.get(top)
                    if verbs and len(words) > 1 and not words[1].startswith("-"):
                        paths = [(top, verb) for verb in words[1].split("|")]
                    else:
                        paths = [(top,)]
                    for path in paths:
                        uses.append(Use(doc, number, line, path, _flags(words[len(path):])))
    return uses


def document_uses() -> list[Use]:
    uses = []
    for doc in DOCS:
        path = ROOT / doc
        if path.is_file():
            uses += parse_uses(doc, path.read_text(encoding="utf-8"))
    return uses


USES = document_uses()
PATHS = sorted({use.path for use in USES})


# Runs in one fresh interpreter: imports the CLI once, then forks one child per subcommand,
# and each child runs the package exactly as `python -m monitoring PATH --help` does (runpy,
# __main__), with its own stdout, stderr and exit code. One process per subcommand, without
# paying the CLI's ~3 s of imports (numpy, scipy, pandas) fifteen times.
DRIVER = r"""
import json, os, runpy, sys, tempfile
import monitoring.cli  # noqa: F401 - imported once; every child inherits it
results = []
for path in json.load(sys.stdin):
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.argv = ["monitoring", *path, "--help"]
        code = 0
        try:
            runpy.run_module("monitoring", run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # report, never hang the driver
            print(repr(exc), file=sys.stderr)
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    texts = []
    for handle in (out, err):
        handle.seek(0)
        texts.append(handle.read().decode("utf-8", "replace"))
    results.append({"path": path, "returncode": os.waitstatus_to_exitcode(status),
                    "stdout": texts[0], "stderr": texts[1]})
print(json.dumps(results))
"""


@dataclass(frozen=True)
class Help:
    returncode: int
    stdout: str
    stderr: str


def _env(tmp: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "MONITOR_DATA_DIR": str(tmp / "data")}


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Help]:
    """``python -m monitoring <path> --help`` for every distinct documented path."""
    done = subprocess.run([sys.executable, "-c", DRIVER], cwd=ROOT, env=_env(tmp_path_factory.mktemp("docs")),
                          input=json.dumps([list(p) for p in PATHS]), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return {tuple(r["path"]): Help(r["returncode"], r["stdout"], r["stderr"])
            for r in json.loads(done.stdout.strip().splitlines()[-1])}


def test_python_dash_m_monitoring_lists_every_command(tmp_path: Path) -> None:
    """The real entry point, once, in its own interpreter."""
    done = subprocess.run([sys.executable, "-m", "monitoring", "--help"], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    for command in TREE:
        assert re.search(rf"^\s+{re.escape(command)}\s", done.stdout, re.MULTILINE), command


def test_the_guides_exist_and_cover_the_operations() -> None:
    by_doc: dict[str, set[tuple[str, ...]]] = {}
    for use in USES:
        by_doc.setdefault(use.doc, set()).add(use.path)
    for guide in GUIDES:
        assert (ROOT / guide).is_file(), f"{guide} is missing"
    assert {("users", "add"), ("users", "list"), ("users", "reset-password"), ("run-once",), ("check",),
            ("backup",)} <= by_doc["DEPLOYMENT_GUIDE.md"]
    assert {("backup",), ("restore",), ("rekey",), ("check",), ("baseline",), ("users", "unlock"),
            ("users", "disable"), ("users", "enable"), ("users", "reset-password")} \
        <= by_doc["OPERATIONAL_RUNBOOK.md"]
    flags = {flag for use in USES if use.doc == "OPERATIONAL_RUNBOOK.md" for flag in use.flags}
    assert {"--new-key-stdin", "--backup-key-stdin", "--start", "--end"} <= flags
    readme = by_doc["README.md"]
    assert {("users", "disable"), ("users", "enable"), ("users", "unlock"), ("backup",), ("restore",),
            ("rekey",), ("check",), ("replay",), ("import",)} <= readme


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "(none)")
def test_every_documented_command_and_option_exists(path: tuple[str, ...], helps) -> None:
    uses = [use for use in USES if use.path == path]
    where = "\n  ".join(use.where for use in uses)
    done = helps[path]
    assert done.returncode == 0, (f"`python -m monitoring {' '.join(path)} --help` failed "
                                  f"({done.returncode}): {done.stderr.strip()[-500:]}\nused in:\n  {where}")
    for use in uses:
        for flag in use.flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", done.stdout), (
                f"{flag} is not an option of `python -m monitoring {' '.join(path)}`: {use.where}")


def test_the_parser_reads_shell_lines_the_way_an_operator_types_them() -> None:
    text = "\n".join([
        "prose: python -m monitoring nonsense (outside a code block, ignored)",
        "```sh",
        "python -m monitoring users disable|enable|unlock NAME",
        "python -m monitoring backup PATH | restore PATH | rekey | check",
        "python -m monitoring users add NAME --role analyst|admin --password-stdin",
        "printf '%s\\n' \"$PW\" | .venv/bin/python -m monitoring users reset-password ann --password-stdin",
        "python -m monitoring users list | grep ann   # a real pipe",
        "MONITOR_DATA_DIR=/tmp/x python3 -m monitoring backup /b/m-$(date -u +%F).db && ls /b",
        "python -m monitoring replay --input h.csv \\",
        "  --output a.jsonl [--settings s.json]",
        "python -m monitoring --help",
        "```",
        "Then run `python -m monitoring users unlock ann` or, wrapped, `python -m monitoring",
        "rekey --new-key-stdin`; ``not `python -m monitoring nonsense` here``? (a double span)",
    ])
    found = [(use.line, use.path, use.flags) for use in parse_uses("x.md", text)]
    assert found == [
        (3, ("users", "disable"), ()), (3, ("users", "enable"), ()), (3, ("users", "unlock"), ()),
        (4, ("backup",), ()), (4, ("restore",), ()), (4, ("rekey",), ()), (4, ("check",), ()),
        (5, ("users", "add"), ("--role", "--password-stdin")),
        (6, ("users", "reset-password"), ("--password-stdin",)),
        (7, ("users", "list"), ()),
        (8, ("backup",), ()),
        (9, ("replay",), ("--input", "--output", "--settings")),
        (11, (), ("--help",)),
        (13, ("users", "unlock"), ()), (13, ("rekey",), ("--new-key-stdin",)),
    ]
