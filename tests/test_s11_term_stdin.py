"""``play`` with no stdin at all (``kithara play URL <&-``: some launchers, cron, systemd units)
while stderr is a terminal. Python's ``sys.stdin`` is None then; play reads no keys and shows
its plain log, as with stdin on /dev/null or a pipe, and exits 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from pty_run import read_until_exit, spawn_on_pty


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stdin") / "song.mp3"
    encode_file(path, 1.0, "mp3", bitrate=64_000)
    return path


def run_on_pty(args: list[str], stdin: str, timeout: float = 30) -> tuple[int, bytes]:
    """``kithara ARGS`` with stdout and stderr on a pty, and stdin closed / null / a pipe."""
    proc, master = spawn_on_pty(args, stdin=stdin)
    raw = read_until_exit(proc, master, timeout)
    return proc.returncode, raw


@pytest.mark.parametrize("stdin", ["closed", "null", "pipe"])
def test_play_without_a_keyboard_plays_and_logs(song: Path, stdin: str) -> None:
    code, raw = run_on_pty(["play", str(song), "--output", "null", "--length", "0.5"], stdin)
    assert code == 0, raw[-2000:]
    assert b"internal error" not in raw
    assert b"STARTED" in raw, raw[-2000:]
