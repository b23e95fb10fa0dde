"""Terminals that cannot redraw: ``TERM=dumb`` (Emacs' M-x shell, some CI consoles on a pty).

Rich draws nothing live there (no cursor movement) and prints its last frame at the very end,
so a dashboard would show nothing while a radio plays for an hour. On such a terminal, play
and fetch print the plain log lines instead, as they happen.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from pty_run import read_until_exit, spawn_on_pty

BITRATE = 64_000
CURSOR_UP = b"\x1b[1A"
EARLY = 1.0  # seconds before the exit: the runs last 4 s, the first line comes at 1-2 s


@pytest.fixture(scope="module")
def radio(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("dumb")
    encode_file(root / "tone.mp3", 6.0, "mp3", bitrate=BITRATE)
    return (root / "tone.mp3").read_bytes()


def seen_while_running(args: list[str], needle: bytes, timeout: float = 40) -> tuple[bool, bytes]:
    """``kithara ARGS`` on a pty with TERM=dumb: was ``needle`` shown a second before it
    exited (a last frame printed while exiting is not "while it runs")?"""
    shown: list[float] = []

    def look(raw: bytes) -> None:
        if not shown and needle in raw:
            shown.append(time.monotonic())

    proc, master = spawn_on_pty(args, term="dumb", cols=100, rows=40)
    raw = read_until_exit(proc, master, timeout, look)
    shown_at = shown[0] if shown else None
    ended_at = time.monotonic()
    assert proc.returncode == 0, raw[-2000:]
    return shown_at is not None and ended_at - shown_at > EARLY, raw


def test_play_on_a_dumb_terminal_logs_titles_as_they_come(radio: bytes) -> None:
    station = Station(radio, BITRATE, metaint=1000, titles=["first", "second"], title_every=8000)
    with MediaServer(Path("/nonexistent")) as srv:
        srv.add_radio("r.mp3", station)
        args = ["play", srv.url("r.mp3"), "--output", "null", "--length", "4"]
        early, raw = seen_while_running(args, b"TITLE")
    assert early, f"nothing shown until the end:\n{raw[-2000:]!r}"
    assert CURSOR_UP not in raw  # a dumb terminal cannot move the cursor


@pytest.mark.parametrize("dashboard", [False, True])
def test_fetch_on_a_dumb_terminal_shows_progress_while_it_runs(
    radio: bytes, tmp_path: Path, dashboard: bool
) -> None:
    with MediaServer(Path("/nonexistent")) as srv:
        srv.add_radio("r.mp3", Station(radio, BITRATE))
        args = ["fetch", srv.url("r.mp3"), "-o", str(tmp_path / "rec.mp3"), "--duration", "4"]
        early, raw = seen_while_running(
            [*args, *(["--dashboard"] if dashboard else [])], b"kithara: rec.mp3: "
        )
    assert early, f"nothing shown until the end:\n{raw[-2000:]!r}"
    assert CURSOR_UP not in raw
