"""The command line itself: help, completions, exit codes that scripts can trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, run_cli
from kithara_cli.completions import FILES, render


@pytest.mark.parametrize("shell", sorted(FILES))
def test_checked_in_completions_are_current(shell: str) -> None:
    """Fails when an option changed and `python -m kithara_cli.completions` was not re-run."""
    checked_in = (REPO / "completions" / FILES[shell]).read_text()
    assert checked_in == render(shell), f"completions/{FILES[shell]} is stale: regenerate it"


def test_completions_name_every_option() -> None:
    bash = render("bash")
    for option in ("--connections", "--segments", "--output", "--abr", "--quick", "--compare"):
        assert option in bash


def test_bash_completion_is_valid_bash(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(["bash", "-n", str(REPO / "completions" / "kithara.bash")], check=False)
    assert proc.returncode == 0


@pytest.mark.parametrize("command", ["play", "fetch", "bench"])
def test_each_command_has_help(command: str) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "Usage: kithara " + command in proc.stdout
    assert "--verbose" in proc.stdout or command == "bench" or "--quick" in proc.stdout


def test_unknown_option_is_a_usage_error() -> None:
    proc = run_cli("fetch", "http://127.0.0.1:9/x", "--no-such-option")
    assert proc.returncode == 2
    assert "no-such-option" in proc.stderr


def test_fetch_without_out_says_so() -> None:
    proc = run_cli("fetch", "http://127.0.0.1:9/x.mp3")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "kithara: error: --out FILE is required"


def test_bad_header_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("fetch", "http://127.0.0.1:9/x.mp3", "-o", str(tmp_path / "x"), "-H", "nocolon")
    assert proc.returncode == 2
    assert "bad --header" in proc.stderr
