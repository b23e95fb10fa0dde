"""p on the first item of a ``--loop queue`` plays the last one.

Found in session 16: ``kithara play a b c --loop queue``, p while ``a`` plays restarted ``a``;
a looped queue has no first item to stop at, and mpv's playlist-prev with
``--loop-playlist`` wraps to the last entry. Without a loop, p on the first item still
plays it again from its start, as before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kithara_cli.media.encode import encode_file
from kithara_cli.play.queue import PlayQueue
from kithara_cli.server import MediaServer
from pty_run import read_until_exit, spawn_on_pty


def test_prev_on_the_first_item_of_a_looped_queue_is_the_last() -> None:
    looped = PlayQueue(["a", "b", "c"], loop="queue")
    assert looped.advance(-1, natural=False) and looped.current is not None
    assert looped.current.target == "c"
    assert looped.advance(natural=False) and looped.current.target == "a"  # and n wraps back
    plain = PlayQueue(["a", "b", "c"])
    assert plain.advance(-1, natural=False) and plain.current is not None
    assert plain.current.target == "a"


def test_p_on_the_first_item_plays_the_last(tmp_path: Path) -> None:
    encode_file(tmp_path / "a.mp3", 3.0, "mp3")
    encode_file(tmp_path / "b.mp3", 1.0, "mp3")
    events = tmp_path / "ev.jsonl"
    sent: list[bytes] = []

    def on_data(_raw: bytes) -> None:
        text = events.read_text() if events.exists() else ""
        started = [json.loads(x) for x in text.splitlines() if '"PlaybackStarted"' in x]
        if len(started) == 1 and not sent:
            sent.append(b"p")
            os.write(master, b"p")
        elif len(started) == 2 and len(sent) == 1:
            sent.append(b"q")
            os.write(master, b"q")

    with MediaServer(tmp_path) as srv:
        urls = [srv.url("a.mp3"), srv.url("b.mp3")]
        args = ["play", *urls, "--loop", "queue", "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        read_until_exit(child, master, 20, on_data)
    assert child.wait(10) == 0
    lines = [json.loads(x) for x in events.read_text().splitlines()]
    assert [e["index"] for e in lines if e["event"] == "QueueAdvanced"][:2] == [0, 1]
