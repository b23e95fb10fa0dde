"""A file served with no length is not "live" on the dashboard.

Found in session 16: a file served chunked, without Range (a transcoding endpoint such as
Subsonic/Navidrome's ``stream``, a script's ``readfile``), on a link slower than instant: the
dashboard's progress line said ``0:05 ... live`` until its body ended, though it is a file:
← seeks back in it, it ends, and its duration is shown once its last byte has come. The
dashboard took any item without a duration for a live stream. Now "live" comes from the
player (a station, an HLS playlist that may grow) and such a file shows ``-:--`` until its
duration is known, as mpv shows no duration for it; a station still says "live".
Real server on 127.0.0.1, media by PyAV, ``kithara play`` on a pty.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

import radio_fixtures
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer
from kithara_cli.server.radio import Station
from pty_run import read_until_exit, spawn_on_pty
from radio_fixtures import BITRATE

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS = re.compile(rb"\d:\d\d\s[^\n]*?\s(live|-:--|\d:\d\d)\s+buffer")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unsized")
    encode_file(root / "song.mp3", 30.0, "mp3", bitrate=128_000)
    return root


def _ends_shown(url: str, seconds: float = 2.5) -> list[bytes]:
    """What the progress line shows at its right end, frame after frame, for ``seconds``."""
    started: list[float] = []

    def on_data(raw: bytes) -> None:
        if not started and b"playing" in raw:
            started.append(time.monotonic())
        elif started and time.monotonic() - started[0] > seconds and len(started) == 1:
            os.write(master, b"q")
            started.append(time.monotonic())

    child, master = spawn_on_pty(["play", url, "--output", "null"], cols=120, rows=30)
    raw = read_until_exit(child, master, 30, on_data)
    assert child.wait(10) == 0
    return PROGRESS.findall(ANSI.sub(b"", raw))


def test_a_file_with_no_length_is_not_live(media: Path) -> None:
    with MediaServer(media) as srv:
        # 3x the audio's rate: its 480 KB take 10 s to come, the whole test long.
        srv.set_faults(
            "song.mp3", Faults(no_content_length=True, ignore_range=True, rate_per_conn=48_000)
        )
        ends = _ends_shown(srv.url("song.mp3"))
    assert ends, "no progress line drawn"
    assert b"live" not in ends, ends
    assert ends[-1] == b"-:--", ends


def test_a_station_is_still_live(radio_mp3: bytes) -> None:
    with MediaServer(Path(os.devnull).parent) as srv:
        srv.add_radio("radio.mp3", Station(radio_mp3, BITRATE, pace=1))
        ends = _ends_shown(srv.url("radio.mp3"), 1.5)
    assert ends and set(ends[-3:]) == {b"live"}, ends
