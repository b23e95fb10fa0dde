"""stderr piped into a reader that leaves early (``kithara play URL 2>&1 | head -1``).

The plain log's thread wrote into the closed pipe, died of BrokenPipeError, and a crash log
was written for it; the command's final error line raised it again and the exit code became
1. Now the rest of the log goes to /dev/null and the exit code is the command's own.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from conftest import KITHARA


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_reader_that_leaves_early_changes_neither_the_exit_code_nor_the_logs(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/x.mp3"
    env = {**os.environ, "NO_COLOR": "1", "KITHARA_STATE_DIR": str(tmp_path / "state")}
    args = [*KITHARA, "play", url, "--output", "null", "--no-ui", "--retries", "3"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # one line, then the reader is gone
    proc.stderr.close()
    assert proc.wait(timeout=60) == 3  # a network failure, as without the pipe
    assert b"kithara:" in first
    crashes = list((tmp_path / "state").glob("crash-*.log"))
    assert crashes == [], [c.read_text()[:500] for c in crashes]
