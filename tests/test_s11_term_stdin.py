"""``play`` with no stdin at all (``kithara play URL <&-``: some launchers, cron, systemd units)
while stderr is a terminal. Python's ``sys.stdin`` is None then; play reads no keys and shows
its plain log, as with stdin on /dev/null or a pipe, and exits 0.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from conftest import KITHARA
from kithara_cli.media.encode import encode_file


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stdin") / "song.mp3"
    encode_file(path, 1.0, "mp3", bitrate=64_000)
    return path


def run_on_pty(args: list[str], stdin: str, timeout: float = 30) -> tuple[int, bytes]:
    """``kithara ARGS`` with stdout and stderr on a pty, and stdin closed / null / a pipe."""
    master, slave = os.openpty()
    closed = stdin == "closed"
    proc = subprocess.Popen(
        [*KITHARA, *args],
        stdin={"null": subprocess.DEVNULL, "pipe": subprocess.PIPE}.get(stdin),
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color", "KITHARA_AUDIO_DEVICE": "none"},
        start_new_session=True,
        preexec_fn=(lambda: os.close(0)) if closed else None,
    )
    os.close(slave)
    raw = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed its end
                    break
                if not data:
                    break
                raw += data
        else:
            proc.kill()
            raise AssertionError(f"kithara {args} still running after {timeout} s")
    finally:
        os.close(master)
        proc.wait(timeout=10)
    return proc.returncode, raw


@pytest.mark.parametrize("stdin", ["closed", "null", "pipe"])
def test_play_without_a_keyboard_plays_and_logs(song: Path, stdin: str) -> None:
    code, raw = run_on_pty(["play", str(song), "--output", "null", "--length", "0.5"], stdin)
    assert code == 0, raw[-2000:]
    assert b"internal error" not in raw
    assert b"STARTED" in raw, raw[-2000:]
