"""The command line itself: help, completions, exit codes that scripts can trust."""

from __future__ import annotations

import subprocess
import sys
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
    assert proc.stderr.strip() == (
        "kithara: error: --out FILE is required: the file to save to (e.g. -o x.mp3)"
    )


def test_bad_header_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("fetch", "http://127.0.0.1:9/x.mp3", "-o", str(tmp_path / "x"), "-H", "nocolon")
    assert proc.returncode == 2
    assert "bad --header" in proc.stderr


def test_collection_is_paused_for_start_up_then_resumes_with_start_up_frozen() -> None:
    code = (
        "import gc, sys, time\n"
        "import kithara_cli.__main__ as entry, kithara_cli.cli as cli\n"
        "entry.START_UP_SECONDS = 0.2\n"
        "def main():\n"
        "    during = gc.isenabled()\n"
        "    time.sleep(0.6)\n"
        "    print(during, gc.isenabled(), gc.get_freeze_count() > 1000)\n"
        "cli.main = main\n"
        "entry.run()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True", "True"]


def test_exit_runs_exit_handlers_and_keeps_the_exit_code(tmp_path: Path) -> None:
    """The CLI exits without the interpreter's teardown: handlers still run, stdio is flushed."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "sys.argv = ['kithara', 'fetch', 'http://127.0.0.1:1/x.mp3', '-o', sys.argv[1]]\n"
        "from kithara_cli.__main__ import run\n"
        "run()\n"
    )
    out = tmp_path / "x.mp3"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode != 0 and proc.returncode != 1  # a typed network error's code
    assert proc.stdout == "handler ran\n"
    assert proc.stderr.startswith("kithara: error:") and proc.stderr.count("\n") == 1
    assert not out.exists()
