"""kithara bench stopped mid-run (Ctrl-C, or a CI runner's SIGTERM): the documented exit
code, one error line, and nothing left behind - no measured command still running in its own
session, no temp folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import KITHARA


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that name ``text`` (the run's private TMPDIR)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text.encode() in raw and state != "Z":
            found.append(raw.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_exits_cleanly(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "KITHARA_BENCH_TINY": "1",
        "TMPDIR": str(scratch),
    }
    out = tmp_path / "r.json"
    argv = [*KITHARA, "bench", "--scenario", "progressive-throttled", "--runs", "3"]
    proc = subprocess.Popen(
        [*argv, "--json", str(out)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # A measured `kithara fetch` (in its own session) is running in the run's temp folder.
        assert _wait_for(lambda: _processes_mentioning(str(scratch)), 30), "no child started"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert last.startswith("kithara: error: "), stderr
    # Killed and reaped before the bench exits (an orphan would linger until its next read
    # of the vanished server failed, ~1 s).
    assert not _processes_mentioning(str(scratch)), "children left running"
    assert not list(scratch.iterdir()), "the temp folder was left behind"
    assert not out.exists()
