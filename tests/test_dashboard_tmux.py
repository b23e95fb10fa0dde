"""``kithara play`` in a real terminal (tmux): the dashboard draws, reacts to ``q``, cleans up.

The media server throttles segments to 20 kB/s, so every segment of a 128 kb/s, 4 s variant
takes over 3 s: longer than the downloader's 2 s soft timeout, so LoadSlow is certain and the
requests stay on screen long enough to be read from ``tmux capture-pane``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kithara_cli.server import Faults, MediaServer

TMUX = shutil.which("tmux") or "tmux"  # scripts/quickstart.sh test installs it
pytestmark = [pytest.mark.slow]
WIDTH, HEIGHT = 120, 40


@pytest.fixture(scope="module")
def ladder_dir() -> Path:
    from kithara_cli.media.cache import cached_ladder

    ladder = cached_ladder(
        "dash-ladder-40s-4s", 40.0, bitrates=(128_000, 256_000), segment_seconds=4.0
    )
    return ladder.master.parent


@pytest.fixture
def throttled(ladder_dir: Path) -> Iterator[MediaServer]:
    with MediaServer(ladder_dir) as server:
        server.set_faults("*.ts", Faults(rate_per_conn=20_000, latency=0.05))
        yield server


class Tmux:
    """A private tmux server (its own socket): nothing here touches the user's sessions."""

    def __init__(self) -> None:
        assert TMUX is not None
        self._dir = Path(tempfile.mkdtemp(prefix="kt-"))  # short: socket paths are limited
        self.socket = str(self._dir / "tmux.sock")
        self.session = "dash"

    def run(self, *args: str) -> str:
        assert TMUX is not None
        proc = subprocess.run(
            [TMUX, "-S", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return proc.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The server inherits our environment; pytest's COLUMNS/LINES would pin Rich to 80x24
        # instead of the pane's real size.
        self.run(
            "new-session", "-d", "-s", self.session, "-x", str(WIDTH), "-y", str(HEIGHT),
            f"env -u COLUMNS -u LINES {exports} {command}",
        )  # fmt: skip

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def cursor_visible(self) -> bool:
        return (
            self.run("display-message", "-p", "-t", self.session, "#{cursor_flag}").strip() == "1"
        )

    def wait_for(self, ok: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        text = self.screen()
        while not ok(text):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the screen was:\n{text}")
            time.sleep(0.2)
            text = self.screen()
        return text

    def kill(self) -> None:
        self.run("kill-server")
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux()
    try:
        yield t
    finally:
        t.kill()


def in_flight_rows(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if "segment" in line and any(s in line for s in (" started", " SLOW", " queued"))
    ]


def test_play_dashboard_in_tmux(throttled: MediaServer, tmux: Tmux, tmp_path: Path) -> None:
    url = throttled.url("master.m3u8")
    marker = tmp_path / "after.txt"
    kithara = f"{shlex.quote(sys.executable)} -m kithara_cli play --output null {shlex.quote(url)}"
    # After kithara exits, the same shell records how it left the terminal, then idles so the
    # pane (and its last screen) stays around for us to read.
    script = (
        f"{kithara}; echo EXIT=$? > {marker}; stty -a >> {marker}; echo KITHARA-EXITED; sleep 60"
    )
    env = {
        "KITHARA_AUDIO_DEVICE": "none",
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    for name in ("KITHARA_CACHE_DIR", "XDG_CACHE_HOME", "VIRTUAL_ENV"):
        if name in os.environ:
            env[name] = os.environ[name]
    tmux.start(f"sh -c {shlex.quote(script)}", env)

    # The dashboard is up: footer, and requests in flight with their bytes.
    text = tmux.wait_for(
        lambda s: "q quit" in s and any("kB" in row for row in in_flight_rows(s)), timeout=30
    )
    assert "── requests" in text
    assert any("kB" in row for row in in_flight_rows(text)), text
    # A throttled segment outlives the 2 s soft timeout: LoadSlow in the log, SLOW on its row.
    text = tmux.wait_for(lambda s: "LOAD SLOW #" in s, timeout=30)
    assert all(len(line) <= WIDTH for line in text.splitlines())
    # What is playing, and the ladder with the playing variant marked (LadderInfo is published
    # while the player opens: the dashboard must be listening by then).
    text = tmux.wait_for(lambda s: "playing" in s.splitlines()[0], timeout=20)
    assert "master.m3u8" in text.splitlines()[0]
    assert "▶ v" in text, (
        "no ladder on screen: was LadderInfo published before the dashboard subscribed? "
        f"(subscribe its queue before Player.open)\n{text}"
    )

    tmux.keys("q")
    tmux.wait_for(lambda s: "KITHARA-EXITED" in s, timeout=15)
    after = marker.read_text()
    assert after.startswith("EXIT=0"), after
    flags = after.split()
    assert "icanon" in flags and "echo" in flags, after  # cbreak mode undone
    assert tmux.cursor_visible()  # Live hid the cursor; it must be back
