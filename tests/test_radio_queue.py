"""The play queue: several targets in order, --loop queue, --shuffle."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import radio_fixtures
from conftest import run_cli
from kithara_cli.play.queue import PlayQueue
from radio_fixtures import read_events

radio_root = radio_fixtures.radio_root


def test_queue_order_loop_and_shuffle() -> None:
    q = PlayQueue(["a", "b", "c"])
    q.advance()
    q.expand("b.pls", [("m1", "Mirror 1"), ("m2", "")])
    assert [i.target for i in q.items] == ["a", "m1", "m2", "c"] and q.current.target == "m1"
    assert q.advance() and q.advance() and not q.advance()
    loop = PlayQueue(["a", "b"], loop="queue")
    assert loop.advance() and loop.advance() and loop.current.target == "a"
    item = PlayQueue(["a", "b"], loop="item")
    assert item.advance() and item.current.target == "a"  # the item again, by itself
    assert item.advance(natural=False) and item.current.target == "b"  # n moves on
    shuffled = PlayQueue([str(i) for i in range(20)], shuffle=True, rng=random.Random(3))
    assert sorted(i.target for i in shuffled.items) == sorted(str(i) for i in range(20))
    assert [i.target for i in shuffled.items] != [str(i) for i in range(20)]


def test_play_several_files_in_order(radio_root: Path, tmp_path: Path) -> None:
    short = str(radio_root / "short.mp3")
    ev = tmp_path / "ev.jsonl"
    r = run_cli(
        "play",
        short,
        short,
        "--output",
        f"wav:{tmp_path / 'o.wav'}",
        "--events",
        str(ev),
        timeout=40,
    )
    assert r.returncode == 0, r.stderr
    events = read_events(ev)
    assert [(e["index"], e["length"]) for e in events if e["event"] == "QueueAdvanced"] == [
        (0, 2),
        (1, 2),
    ]
    assert sum(e["event"] == "EndOfStream" for e in events) == 2


def test_loop_queue_starts_over(radio_root: Path, tmp_path: Path) -> None:
    short = str(radio_root / "short.mp3")
    ev = tmp_path / "ev.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kithara_cli",
            "play",
            short,
            short,
            "--loop",
            "queue",
            "--output",
            f"wav:{tmp_path / 'o.wav'}",
            "--events",
            str(ev),
        ],
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen: list[int] = []
    deadline = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if ev.exists():
            lines = ev.read_text().splitlines()
            seen = [json.loads(ln)["index"] for ln in lines[:-1] if '"QueueAdvanced"' in ln]
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=15)
    assert seen[:3] == [0, 1, 0]
