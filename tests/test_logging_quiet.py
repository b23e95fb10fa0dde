"""Log records never reach the terminal raw: a ``log.exception`` (here a failing event
subscriber whose error carries network text) goes to a log file in the state directory; stderr
gets no traceback, and with ``-v`` one sanitised line naming the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kithara_cli import crash
from kithara_cli.server import MediaServer

HOSTILE = "title \x1b]52;c;SGVsbG8=\x07 \x1b[2J \x9b31m"

# The CLI as `kithara` runs it, with one subscriber that raises on every completed request.
SCRIPT = f"""
import sys
from kithara_cli.events import bus

_init = bus.EventBus.__init__

def _boom(event):
    if type(event).__name__ == "RequestCompleted":
        raise ValueError({HOSTILE!r})

def _init_with_bad_subscriber(self):
    _init(self)
    self.subscribe(_boom)

bus.EventBus.__init__ = _init_with_bad_subscriber
sys.argv = ["kithara", *sys.argv[1:]]
from kithara_cli.__main__ import run
run()
"""


def _run(server: MediaServer, out: Path, state: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, crash.STATE_ENV: str(state), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, "fetch", server.url("small.bin"), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("verbose", [False, True])
def test_a_failing_subscriber_is_logged_to_a_file_not_the_terminal(
    server: MediaServer, blob_root: Path, tmp_path: Path, verbose: bool
) -> None:
    out = tmp_path / "out.bin"
    state = tmp_path / "state"
    proc = _run(server, out, state, *(["-v"] if verbose else ["-q"]))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()  # the fetch went on
    assert "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stderr and "\x9b" not in proc.stderr and "\x07" not in proc.stderr
    logs = sorted(state.glob("log-*.log"))
    assert len(logs) == 1, logs
    text = logs[0].read_text()
    assert "event subscriber failed on RequestCompleted" in text
    assert "Traceback" in text and "ValueError" in text
    said = [ln for ln in proc.stderr.splitlines() if "event subscriber failed" in ln]
    if verbose:
        assert said, proc.stderr
        assert all(str(logs[0]) in ln and "\\x1b]52" in ln for ln in said), said
    else:
        assert said == [] and proc.stderr.strip() == "", proc.stderr
