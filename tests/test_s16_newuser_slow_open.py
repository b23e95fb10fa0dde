"""``kithara play URL`` on a terminal while the server does not answer.

Found in session 16: the dashboard starts once the target is open, and until then nothing at
all was drawn. A server that accepts and does not answer kept the terminal blank through
every retry (six of ``--timeout``'s 20 s: about two minutes) before the error line; a new user
takes that for a hang. mpv prints ``Playing: URL`` at once, ffplay its banner. Now, past a
second, a line says what is being opened (with Ctrl-C to stop), and the log's lines
(LoadSlow, retries) follow as ``--no-ui`` prints them. A target that opens at once draws
the dashboard alone, as before. Run on a pseudo-terminal against a real server on 127.0.0.1
whose answers are held back (``Faults(latency=...)``), media made by PyAV.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer
from pty_run import read_until_exit, spawn_on_pty


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slowopen")
    encode_file(root / "song.mp3", 8.0, "mp3")
    return root


@pytest.fixture
def served(media: Path) -> Iterator[MediaServer]:
    with MediaServer(media) as srv:
        yield srv


def interrupted(args: list[str], wait_for: bytes, limit: float) -> str:
    """``kithara ARGS`` on a pty, Ctrl-C once ``wait_for`` shows or after ``limit`` s (a
    blank terminal included); what it wrote, its colours taken out."""
    proc, master = spawn_on_pty(args, cols=120)
    sent = threading.Event()

    def interrupt() -> None:
        if not sent.is_set():
            sent.set()
            os.killpg(proc.pid, signal.SIGINT)

    timer = threading.Timer(limit, interrupt)
    timer.start()
    try:
        raw = read_until_exit(proc, master, limit + 20, lambda r: wait_for in r and interrupt())
    finally:
        timer.cancel()
    assert proc.returncode == 130, raw
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode(errors="replace"))


def test_a_server_that_does_not_answer_is_said_to_be_waited_on(served: MediaServer) -> None:
    served.set_faults("song.mp3", Faults(latency=60))
    url = f"{served.base_url}/song.mp3"
    started = time.monotonic()
    text = interrupted(["play", url], b"LOAD SLOW", limit=8)
    elapsed = time.monotonic() - started
    assert f"kithara: opening {url}... (Ctrl-C to stop)" in text, text
    assert "LOAD SLOW #1 bytes 0-" in text, text  # the request the log saw from its start
    assert text.rstrip().endswith("kithara: error: interrupted"), text
    assert elapsed < 7, elapsed  # the note at ~1 s, LoadSlow at ~2 s: not the backstop


def test_a_target_that_opens_at_once_draws_the_dashboard_alone(
    served: MediaServer, media: Path
) -> None:
    for target in (f"{served.base_url}/song.mp3", str(media / "song.mp3")):
        text = interrupted(["play", target], b"first audio", limit=10)
        assert "first audio" in text, text
        assert "opening" not in text and "LOAD SLOW" not in text, text
