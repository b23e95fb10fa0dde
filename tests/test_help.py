"""Help a person can read: real metavars, examples, and listing outputs without playing."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import typer.main

from conftest import run_cli
from kithara_cli.cli import app
from kithara_cli.cli_options import DEMO_PROFILES


def all_command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand of the app, the root included (as ``()``)."""
    paths: list[tuple[str, ...]] = [()]

    def walk(command: object, prefix: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            paths.append((*prefix, name))
            walk(sub, (*prefix, name))

    walk(typer.main.get_command(app), ())
    return paths


COMMANDS = all_command_paths()


def test_the_walk_found_every_command() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "fetch", "play", "bench", "config", "config path", "config show"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "kithara")
def test_help_has_no_placeholders(path: tuple[str, ...]) -> None:
    proc = run_cli(*path, "--help", timeout=30)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Usage: kithara" in text
    for char in "<>{}":
        assert char not in text, f"{char!r} in `kithara {' '.join(path)} --help`:\n{text}"


def test_fetch_usage_and_metavars() -> None:
    text = run_cli("fetch", "--help").stdout
    assert "Usage: kithara fetch [OPTIONS] URL\n" in text
    for shown in ("-c, --connections N", "--variant VARIANT", "--audio LANG", "--out FILE",
                  "--duration SECONDS", "--max-size SIZE", "--cookies FILE"):  # fmt: skip
        assert shown in text, shown


@pytest.mark.parametrize("command", ["fetch", "play", "bench"])
def test_examples_above_the_exit_codes(command: str) -> None:
    text = run_cli(command, "--help").stdout
    assert "Examples:" in text
    lines = text[text.index("Examples:") :].splitlines()
    examples = [line for line in lines[1:] if line.strip().startswith(f"kithara {command}")]
    assert len(examples) >= 3
    for line in examples:  # kept as written, one per line: not rewrapped into a paragraph
        assert line.startswith(f"    kithara {command}"), line
    if command != "bench":
        assert text.index("Examples:") < text.index("Exit codes:")


def test_output_and_out_are_told_apart() -> None:
    play = " ".join(run_cli("play", "--help").stdout.split())
    fetch = " ".join(run_cli("fetch", "--help").stdout.split())
    assert "--output SINK Where the sound goes (a sink, not a file to save" in play
    assert "-o, --out FILE The file to write" in fetch and "Not play's --output" in fetch


def test_demo_profiles_in_help_are_the_real_ones() -> None:
    from kithara_cli.commands.demo import PROFILES

    listed = re.findall(r"(?:^|; )(\w+)", DEMO_PROFILES)
    assert listed == list(PROFILES)
    play = " ".join(run_cli("play", "--help").stdout.split())
    assert "--demo-profile NAME" in play and "story" in play


@pytest.mark.parametrize("args", [("--output", "help"), ("--list-outputs",)])
def test_list_outputs_opens_nothing(args: tuple[str, ...], tmp_path: Path) -> None:
    """Lists sinks and devices, exits 0 at once: no demo built or served, nothing played."""
    cache = tmp_path / "cache"
    started = time.monotonic()
    proc = run_cli("play", *args, env={"KITHARA_CACHE_DIR": str(cache)}, timeout=30)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no "playing the built-in demo" note, no error
    for sink in ("default", "null", "wav:FILE", "INDEX or NAME"):
        assert sink in proc.stdout
    assert not cache.exists()  # the demo's ladder was never built
    assert elapsed < 10  # a listing, not a play: ~0.3 s idle, bounded loosely for a loaded CI
