"""Ctrl-C while ``kithara play`` builds the demo's media (a new user's very first run).

Found in session 16: the build (a few seconds of PyAV encoding) ran on the main thread, where
kithara's Ctrl-C handler only sets a flag, so the interrupt was noticed once the build had
finished: 2-4 s after the key. Now the build runs on a thread that the main one waits on in
slices: exit 130 within a poll, one line, and the half-built folder is swept by the next run,
which builds it whole and plays.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from conftest import run_cli
from pty_run import read_until_exit, spawn_on_pty


def test_ctrl_c_during_the_demo_build_exits_at_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"KITHARA_CACHE_DIR": str(cache)}
    proc, master = spawn_on_pty(["play"], env=env)
    interrupted_at: list[float] = []

    def on_data(raw: bytes) -> None:
        if not interrupted_at and b"building the demo's media" in raw:
            time.sleep(0.3)  # into the encoding
            interrupted_at.append(time.monotonic())
            os.killpg(proc.pid, signal.SIGINT)

    raw = read_until_exit(proc, master, 60, on_data)
    took = time.monotonic() - interrupted_at[0]
    assert proc.returncode == 130, raw
    text = raw.decode(errors="replace")
    assert text.rstrip().endswith("interrupted"), text
    assert "Traceback" not in text
    assert took < 1.5, f"{took:.2f} s from Ctrl-C to exit"
    left = [p.name for p in cache.glob("media-g*/*")]  # a temp folder at most, never a ladder
    assert not any(n.startswith("demo-") and ".tmp-" not in n for n in left), left

    played = run_cli(
        "play",
        "--output",
        "null",
        "--no-ui",
        "--length",
        "0.3",
        env={**env, "KITHARA_AUDIO_DEVICE": "none"},
    )
    assert played.returncode == 0, played.stderr
    assert "first audio" in played.stderr
    names = [p.name for p in cache.glob("media-g*/*")]
    assert not any(".tmp-" in n for n in names), names  # the cut-short build swept
    assert any(n.startswith("demo-") for n in names), names
