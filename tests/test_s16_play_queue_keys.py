"""n and q act while a queue's item is still opening.

Found in session 16: ``kithara play A DEAD B`` on a terminal, where DEAD is a station that
accepts connections and never answers (or answers after a minute). While it opened, no key
was read: n (next) and q did nothing through every retry (six of ``--timeout``'s 20 s:
two minutes), though the screen said "opening DEAD...". mpv's keys act while a file loads
(``>``/Enter skip it). Now n, p and q end the opening at once: n plays B (the skipped item
is not counted a failure: exit 0), q quits; the abandoned request is cancelled, not left
running beside the next item. Real server on 127.0.0.1 (answers held back by
``Faults(latency=...)``), media by PyAV, ``kithara`` on a pty.

Also: the volume set with ↑/↓ went back to ``--volume`` at each item of a queue (each item's
player started from the option); mpv keeps it across its playlist, and so does kithara now.
And keys read together ("nn", a held n over ssh) are all pressed: the ones after the key that
ended an item were dropped with that item's key reader; they carry to the next now.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer
from pty_run import read_until_exit, spawn_on_pty


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("queuekeys")
    encode_file(root / "a.mp3", 1.0, "mp3")
    encode_file(root / "dead.mp3", 1.0, "mp3")
    encode_file(root / "b.mp3", 1.0, "mp3")
    return root


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _run(srv: MediaServer, events: Path, names: list[str], key: bytes) -> tuple[int, float]:
    """``kithara play NAMES...``; ``key`` once the dead item has been opening for 1 s."""
    pressed: list[float] = []

    def on_data(_raw: bytes) -> None:
        if pressed:
            return
        opening = [e for e in _events(events) if e.get("url") == srv.url("dead.mp3")]
        if opening and time.monotonic() - float(opening[0]["ts"]) > 1.0:  # (one clock)
            os.write(master, key)
            pressed.append(time.monotonic())

    urls = [srv.url(n) for n in names]
    args = ["play", *urls, "--output", "null", "--events", str(events)]
    child, master = spawn_on_pty(args, cols=100, rows=30)
    read_until_exit(child, master, 20, on_data)  # (before: two minutes of retries)
    assert pressed, "the dead item was never opened"
    return child.wait(10), time.monotonic() - pressed[0]


@pytest.fixture
def served(media: Path):
    with MediaServer(media) as srv:
        srv.set_faults("dead.mp3", Faults(latency=60.0))  # accepts, answers in a minute
        yield srv


def test_n_skips_an_item_that_is_still_opening(served: MediaServer, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    code, after = _run(served, events, ["a.mp3", "dead.mp3", "b.mp3"], b"n")
    assert code == 0  # a skipped item is no failure
    assert after < 6.0, after  # b (1 s) played and the run ended soon after the key
    lines = _events(events)
    queue = [e["index"] for e in lines if e["event"] == "QueueAdvanced"]
    assert queue == [0, 1, 2], queue
    assert sum(e["event"] == "EndOfStream" for e in lines) == 2  # a and b played to the end
    dead = [
        e["request_id"]
        for e in lines
        if e["event"] == "RequestEnqueued" and e["url"] == served.url("dead.mp3")
    ]
    assert len(dead) == 1, dead  # the one held request, not retried beside b...
    cancelled = [
        e for e in lines if e["event"] == "RequestCancelled" and e["request_id"] == dead[0]
    ]
    assert cancelled, lines  # ...and given up


def test_q_quits_while_an_item_is_opening(served: MediaServer, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    code, after = _run(served, events, ["dead.mp3", "b.mp3"], b"q")
    assert code == 0 and after < 3.0, (code, after)
    assert not any(e["event"] == "PlaybackStarted" for e in _events(events))


def test_the_volume_set_by_keys_holds_for_the_next_item(media: Path, tmp_path: Path) -> None:
    """↓ three times during the first item: the second played at 100% again (each item's
    player started from --volume). mpv keeps the volume across a playlist; so now."""
    events = tmp_path / "ev.jsonl"
    sent: list[bytes] = []

    def on_data(_raw: bytes) -> None:
        started = sum(e["event"] == "PlaybackStarted" for e in _events(events))
        if started == 1 and not sent:
            sent.append(b"\x1b[B" * 3)
            os.write(master, sent[-1])
        elif started == 2 and len(sent) == 1:
            sent.append(b"\x1b[B")
            os.write(master, sent[-1])

    with MediaServer(media) as srv:
        urls = [srv.url("a.mp3"), srv.url("b.mp3")]
        args = ["play", *urls, "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        read_until_exit(child, master, 20, on_data)
    assert child.wait(10) == 0
    volumes = [
        round(float(e["volume"]), 2) for e in _events(events) if e["event"] == "VolumeChanged"
    ]
    assert volumes == [0.9, 0.8, 0.7, 0.6], volumes


def test_keys_read_at_once_carry_to_the_next_items(media: Path, tmp_path: Path) -> None:
    """ "nn" in one read (a held n over ssh): the first ended the item, the second was lost
    with the reader; now it skips the next item too, as two presses do in mpv."""
    events = tmp_path / "ev.jsonl"
    sent: list[bool] = []

    def on_data(_raw: bytes) -> None:
        if not sent and any(e["event"] == "PlaybackStarted" for e in _events(events)):
            os.write(master, b"nn")
            sent.append(True)

    with MediaServer(media) as srv:
        urls = [srv.url(n) for n in ("a.mp3", "dead.mp3", "b.mp3")]
        args = ["play", *urls, "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        read_until_exit(child, master, 20, on_data)
    assert child.wait(10) == 0
    lines = _events(events)
    assert [e["index"] for e in lines if e["event"] == "QueueAdvanced"] == [0, 1, 2]
    assert sum(e["event"] == "PlaybackStarted" for e in lines) == 2, lines  # a, b; not the 2nd


def test_a_key_typed_before_the_player_is_ready_is_kept(media: Path, tmp_path: Path) -> None:
    """space typed while kithara starts (or between two items): the key reader's cbreak
    switch flushed the input typed so far (TCSAFLUSH), so the pause was lost; mpv acts on
    it. Now it is kept: the item pauses as it opens."""
    events = tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        args = ["play", srv.url("a.mp3"), "--output", "null", "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30)
        os.write(master, b" ")  # before Python has even loaded kithara
        quit_at: list[float] = []

        def on_data(_raw: bytes) -> None:
            if not quit_at and any(e["event"] == "PlaybackState" for e in _events(events)):
                quit_at.append(time.monotonic() + 1.0)
            elif quit_at and len(quit_at) == 1 and time.monotonic() > quit_at[0]:
                os.write(master, b"q")
                quit_at.append(time.monotonic())

        read_until_exit(child, master, 20, on_data)
    assert child.wait(10) == 0
    lines = _events(events)
    states = [e["state"] for e in lines if e["event"] == "PlaybackState"]
    assert "paused" in states and "ended" not in states, states
    last = [e["seconds"] for e in lines if e["event"] == "Position"][-1]
    assert last < 0.5, last  # paused as it opened (applied once open: a moment of audio)
