"""``kithara fetch``'s progress bar in a narrow terminal (a split pane, a phone's SSH app).

Found in session 16: at 50 columns Rich wrapped the squeezed size column onto a second row
(``4.4/24.0`` then ``MB`` under it), so each redraw (a carriage return) left a stray row
behind. Now the bar gives way first and each cell stays on its row: every frame is one line
that still shows the size, the speed and the time left. On a pseudo-terminal, against a
paced real server on 127.0.0.1, a PyAV-made MP3.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer
from pty_run import read_until_exit, spawn_on_pty


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("narrow")
    encode_file(root / "long.mp3", 30.0, "mp3", bitrate=320_000)  # ~1.2 MB
    return root


@pytest.fixture
def served(media: Path) -> Iterator[MediaServer]:
    with MediaServer(media) as srv:
        srv.set_faults("long.mp3", Faults(rate_total=200_000))
        yield srv


@pytest.mark.parametrize("cols", [50, 60])
def test_each_progress_frame_is_one_line(served: MediaServer, tmp_path: Path, cols: int) -> None:
    out = tmp_path / "long.mp3"
    proc, master = spawn_on_pty(
        ["fetch", f"{served.base_url}/long.mp3", "-o", str(out), "-c", "1"], cols=cols
    )
    timer = threading.Timer(3.0, lambda: os.killpg(proc.pid, signal.SIGINT))
    timer.start()
    try:
        raw = read_until_exit(proc, master, 30)
    finally:
        timer.cancel()
    assert proc.returncode == 130, raw
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode(errors="replace"))
    body = text.split("kithara: error:", 1)[0]
    frames = [f for f in body.split("\r") if f.strip()]
    assert len(frames) >= 5, text
    for frame in frames:
        assert "\n" not in frame.strip("\n"), repr(frame)  # one row: nothing left behind
    last = frames[-1]
    assert re.search(r"\d+\.\d/1\.\d MB", last), repr(last)
    assert "B/s" in last and re.search(r"0:00:\d\d", last), repr(last)
