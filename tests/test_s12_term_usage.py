"""Click's own usage errors (a missing value, an unknown option, a number out of range) are
kithara's one line too: ``kithara: error: ... (see kithara X --help)`` on stderr, exit 2,
nothing on stdout. Click's default was three lines (usage, "Try ...", "Error: ..."). Every
command and subcommand says it the same way; ``--help`` and the bare group's help stay as
they were.
"""

from __future__ import annotations

import pytest

from conftest import run_cli

USAGE_ERRORS = [
    (["play", "--length"], "kithara play", "--length"),
    (["play", "--volume", "5"], "kithara play", "--volume"),
    (["fetch", "--bogus"], "kithara fetch", "--bogus"),
    (["fetch"], "kithara fetch", "URL"),
    (["fetch", "--connections", "many", "http://127.0.0.1:9/x"], "kithara fetch", "many"),
    (["bench", "--runs", "0"], "kithara bench", "--runs"),
    (["bench", "--bogus"], "kithara bench", "--bogus"),
    (["cache", "--bogus"], "kithara cache", "--bogus"),
    (["cache", "ls", "--bogus"], "kithara cache ls", "--bogus"),
    (["cache", "nope"], "kithara cache", "nope"),
    (["config", "--bogus"], "kithara config", "--bogus"),
    (["config", "show", "--bogus"], "kithara config show", "--bogus"),
    (["--bogus"], "kithara", "--bogus"),
    (["bogus"], "kithara", "bogus"),
    (["--config"], "kithara", "--config"),
]


@pytest.mark.parametrize(
    ("args", "command", "needle"), USAGE_ERRORS, ids=[" ".join(a) for a, _, _ in USAGE_ERRORS]
)
def test_a_usage_error_is_one_line_and_exit_2(args: list[str], command: str, needle: str) -> None:
    proc = run_cli(*args, timeout=30)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("kithara: error: "), line
    assert needle in line, line
    assert line.endswith(f" (see {command} --help)"), line
    assert "Usage:" not in line and "Try '" not in line and "Error:" not in line, line
    assert proc.stdout == ""


def test_a_long_message_drops_the_hint_rather_than_wrap_to_a_second_line() -> None:
    proc = run_cli("fetch", "--" + "x" * 500, timeout=30)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kithara: error: No such option"), lines


@pytest.mark.parametrize("args", [["--help"], ["fetch", "--help"], ["cache", "ls", "-h"]])
def test_help_is_unchanged(args: list[str]) -> None:
    proc = run_cli(*args, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: kithara"), proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("args", [[], ["cache"], ["config"]])
def test_a_bare_group_still_shows_its_help(args: list[str]) -> None:
    proc = run_cli(*args, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Usage: kithara"), proc.stderr
    assert "Commands:" in proc.stderr
