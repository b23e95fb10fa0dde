"""A held arrow key seeks as far as it was pressed.

Found in session 16, holding → on ``kithara play`` of a 60 s MP3 (a pty, a real server on
127.0.0.1): two faults stacked up.

* The key reader took one key per read: key repeat over ssh or tmux, or presses made while
  the loop was busy, arrive together (``\\x1b[C\\x1b[C\\x1b[C`` in one read) and all but the
  first were dropped: three presses seeked 10 s.
* A relative seek counted from the position *played*, which does not move while a seek
  waits on the network: 20 presses of → in a second on a slow link all asked for the same
  0:21. mpv adds a relative seek to the one still pending.

Now every key in a read is a press, and a seek made while another lands counts on from its
target: five presses go 50 s. Also here: a seek on a slow link waiting for the running
request (``file.body_rate``), and a seek while paused shown as "seeking" until resumed.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer
from pty_run import read_until_exit, spawn_on_pty

RIGHT = b"\x1b[C"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seekkeys")
    encode_file(root / "long.mp3", 60.0, "mp3", bitrate=128_000)
    return root


def test_every_key_in_one_read_is_a_press() -> None:
    from kithara_cli.ui.keys import KeyReader, split_keys

    assert split_keys("\x1b[C\x1b[C\x1b[C") == (["right"] * 3, "")
    assert split_keys("  nq") == (["space", "space", "next", "quit"], "")
    # PgDn, Ctrl-→ (bound to nothing: skipped whole, its "C" is no key), SS3 ↑, a cut CSI.
    assert split_keys("\x1b[6~\x1b[1;5C\x1bOA\x1b[") == (["chapter-next", "up"], "\x1b[")
    assert split_keys("\x1b") == ([], "\x1b")
    assert split_keys("\x1bq") == ([], "")  # Alt+q is not q

    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "r", closefd=False) as stream, KeyReader(stream) as keys:
            os.write(master, RIGHT * 3 + b"\x1b[")  # the last press cut by the read...
            first = keys.poll(1.0)
            os.write(master, b"D")  # ...ends in the next
            got = [first] + [keys.poll(0.2) for _ in range(4)]
    finally:
        os.close(master)
        os.close(slave)
    assert got == ["right", "right", "right", "left", None], got


def test_held_right_arrow_seeks_ten_seconds_a_press(media: Path, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    sent: list[float] = []

    def on_data(_raw: bytes) -> None:
        if not sent and events.exists() and b"PlaybackStarted" in events.read_bytes():
            os.write(master, RIGHT * 3)  # three presses in one read
            for _ in range(2):  # two more while the seek is landing (a slow link)
                time.sleep(0.05)
                os.write(master, RIGHT)
            sent.append(time.monotonic())
        elif sent and time.monotonic() - sent[0] > 1.0 and len(sent) == 1:
            os.write(master, b"q")
            sent.append(time.monotonic())

    with MediaServer(media) as srv:
        srv.set_faults("long.mp3", Faults(rate_per_conn=40_000))  # ~2.5x the audio's rate
        args = ["play", srv.url("long.mp3"), "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        read_until_exit(child, master, 40, on_data)
    assert child.wait(10) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    targets = [e["target"] for e in lines if e["event"] == "SeekRequested"]
    assert len(targets) == 5, targets
    steps = [round(b - a, 1) for a, b in itertools.pairwise(targets)]
    assert steps == [10.0] * 4, targets
    assert 50.0 <= targets[-1] <= 52.0, targets


def test_a_seek_past_the_buffer_on_a_slow_link_does_not_wait_for_it(
    media: Path, tmp_path: Path
) -> None:
    """→ 10 s into a file arriving at 40 KB/s (2.5x its bitrate): the target is ~150 KB past
    what had come. The running request was waited for when within 256 KB of it (~4 s on
    this link, ffmpeg waits for ~128 KB of it); now a read further than half a second of the
    measured rate gets its own request from the target: it plays within a round trip or two."""
    events = tmp_path / "ev.jsonl"
    sent: list[float] = []

    def on_data(_raw: bytes) -> None:
        text = events.read_bytes() if events.exists() else b""
        if not sent and b"PlaybackStarted" in text:
            sent.append(time.monotonic())
        elif len(sent) == 1 and time.monotonic() - sent[0] > 0.5:
            os.write(master, RIGHT)
            sent.append(time.monotonic())
        elif len(sent) == 2 and (b"SeekCompleted" in text or time.monotonic() - sent[1] > 8):
            sent.append(time.monotonic())  # (a few positions after it, then q)
        elif len(sent) == 3 and time.monotonic() - sent[2] > 0.5:
            os.write(master, b"q")
            sent.append(time.monotonic())

    with MediaServer(media) as srv:
        srv.set_faults("long.mp3", Faults(rate_per_conn=40_000))
        args = ["play", srv.url("long.mp3"), "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        read_until_exit(child, master, 40, on_data)
    assert child.wait(10) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    (seek,) = [e for e in lines if e["event"] == "SeekRequested"]
    done = [e for e in lines if e["event"] == "SeekCompleted"]
    assert done and done[0]["target"] == seek["target"], lines
    assert done[0]["latency"] < 1.5, done
    after = [e["seconds"] for e in lines if e["event"] == "Position" and e["ts"] > done[0]["ts"]]
    assert after and all(p >= seek["target"] - 0.1 for p in after), after


def test_a_seek_while_paused_stays_paused(media: Path, tmp_path: Path) -> None:
    """space, then →: the dashboard said "seeking" until resumed (a seek lands when its audio
    plays), as if stuck. mpv shows the new position, still paused; so now."""
    events = tmp_path / "ev.jsonl"
    steps = [b" ", RIGHT, b" ", b"q"]
    sent: list[float] = []

    def on_data(_raw: bytes) -> None:
        text = events.read_bytes() if events.exists() else b""
        if not sent and b"PlaybackStarted" in text:
            sent.append(time.monotonic())
        elif sent and len(sent) <= len(steps) and time.monotonic() - sent[-1] > 0.7:
            os.write(master, steps[len(sent) - 1])
            sent.append(time.monotonic())

    with MediaServer(media) as srv:
        args = ["play", srv.url("long.mp3"), "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        read_until_exit(child, master, 30, on_data)
    assert child.wait(10) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    states = [e["state"] for e in lines if e["event"] == "PlaybackState"]
    assert "seeking" not in states, states
    assert "paused" in states and states[states.index("paused") + 1] == "playing", states
    (seek,) = [e for e in lines if e["event"] == "SeekRequested"]
    paused = [e for e in lines if e["event"] == "Position" and e["ts"] > seek["ts"]][:3]
    assert paused and all(abs(e["seconds"] - seek["target"]) < 0.1 for e in paused), paused
