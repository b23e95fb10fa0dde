"""Endless streams through ``kithara play``: no end by themselves, titles on time, reconnects."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.pids import rss_kb
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

HOSTILE = [
    "\x1b]52;c;SGVsbG8=\x07clipboard",
    "[bold red]markup[/bold red] \x9b2J",
    b"Caf\xe9 \x1b[2J",
]


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@pytest.mark.slow
def test_two_hour_stream_bounded_memory_and_disk(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """Unpaced (~100x real time): two hours of an endless stream (115 MB) play through one
    request and stop at --length, with RSS and disk flat (about 80 s of one core)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("fast.mp3", Station(radio_mp3, BITRATE, pace=0))
        env = {**os.environ, "TMPDIR": str(tmp), "NO_COLOR": "1"}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kithara_cli",
                "play",
                srv.url("fast.mp3"),
                "--output",
                "wav:/dev/null",
                "--length",
                "7200",
                "--events",
                str(tmp_path / "ev.jsonl"),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        samples: list[tuple[int, int, int]] = []  # (server bytes, rss kB, disk bytes)
        deadline = time.monotonic() + 420
        while proc.poll() is None and time.monotonic() < deadline:
            samples.append((route.bytes_sent, rss_kb(proc.pid), _disk(tmp)))
            time.sleep(0.25)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert route.bytes_sent > 7000 * BITRATE // 8  # two hours of audio went through
    assert len(route.starts) == 1  # one request: never a Range, never a second try
    events = read_events(tmp_path / "ev.jsonl")
    assert not [e for e in events if e["event"] == "LoadSlow"]
    assert not [e for e in events if e["event"] == "EndOfStream"]  # it ended by --length
    # From a quarter of the run (start-up's imports done) to the end: flat.
    late = [rss for _, rss, _ in samples[len(samples) // 4 :] if rss]
    assert late and max(late) - late[0] < 5_000, late
    assert max(disk for _, _, disk in samples) < 256 * 1024  # nothing of the stream on disk


def test_titles_land_on_their_playback_time(radio_root: Path, radio_mp3: bytes) -> None:
    station = Station(
        radio_mp3,
        BITRATE,
        pace=1,
        metaint=4000,
        titles=["t0", "t1", "t2", "t3"],
        title_every=12_000,
        live_edge=False,
    )
    with MediaServer(radio_root) as srv:
        srv.add_radio("timed.mp3", station)
        ev_path = radio_root.parent / f"timed-{os.getpid()}.jsonl"
        r = run_cli(
            "play",
            srv.url("timed.mp3"),
            "--output",
            "null",
            "--length",
            "3.4",
            "--events",
            str(ev_path),
            timeout=30,
        )
    assert r.returncode == 0, r.stderr
    titles = [e for e in read_events(ev_path) if e["event"] == "TitleChanged"]
    # Blocks every 4000 bytes; the title changes every 12000 (0.75 s at 16000 bytes/s).
    assert [t["title"] for t in titles][:4] == ["t0", "t1", "t2", "t3"]
    for t in titles:
        expected = t["byte_offset"] / (BITRATE / 8)
        assert abs(t["position"] - expected) <= 0.1, (t, expected)


def test_icy_status_line_hostile_titles_never_raw(radio_root: Path, radio_mp3: bytes) -> None:
    station = Station(
        radio_mp3,
        BITRATE,
        pace=4,
        metaint=2000,
        titles=HOSTILE,
        title_every=8000,
        icy_status=True,
        name="\x1b[31mEvil\x1b[0m FM",
    )
    with MediaServer(radio_root) as srv:
        srv.add_radio("icy.mp3", station)
        r = run_cli(
            "play", srv.url("icy.mp3"), "--output", "null", "--length", "2.6", "--no-ui", timeout=30
        )
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stderr and "\x9b" not in r.stderr and "\x07" not in r.stderr
    assert "\\x1b]52;c;SGVsbG8=\\x07clipboard" in r.stderr
    assert "[bold red]markup[/bold red] \\x9b2J" in r.stderr  # shown as text
    assert "Café \\x1b[2J" in r.stderr  # Latin-1 read as such
    assert "STATION" in r.stderr and "\\x1b[31mEvil" in r.stderr


def _reconnect(radio_root: Path, radio_mp3: bytes, reset: bool, tmp_path: Path) -> None:
    station = Station(
        radio_mp3,
        BITRATE,
        pace=2,
        drop_after_bytes=100_000,
        drop_reset=reset,
        drop_times=1,
        titles=["before", "after"],
        title_every=200_000,
    )
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("drop.mp3", station)
        ev = tmp_path / "ev.jsonl"
        r = run_cli(
            "play",
            srv.url("drop.mp3"),
            "--output",
            "null",
            "--length",
            "4.5",
            "--no-ui",
            "--events",
            str(ev),
            timeout=30,
        )
        ranges = [rec.range for rec in srv.stats.requests("drop.mp3")]
    assert r.returncode == 0, r.stderr
    events = read_events(ev)
    gaps = [e for e in events if e["event"] == "StreamGap"]
    assert len(gaps) == 1 and 0 < gaps[0]["seconds"] < 2
    assert "GAP" in r.stderr
    assert len(route.starts) == 2
    assert route.starts[1] > route.starts[0] + 100_000  # the live edge, not a byte offset
    assert not [e for e in events if e["event"] == "Notice" and "Range" in e["message"]]
    assert ranges[1:] == [None]  # no Range on the reconnect
    assert not [e for e in events if e["event"] in ("EndOfStream", "BodyResumed")]


def test_reconnect_after_reset(radio_root: Path, radio_mp3: bytes, tmp_path: Path) -> None:
    _reconnect(radio_root, radio_mp3, True, tmp_path)


def test_reconnect_after_clean_close(radio_root: Path, radio_mp3: bytes, tmp_path: Path) -> None:
    _reconnect(radio_root, radio_mp3, False, tmp_path)


def test_gives_up_after_bounded_failures(radio_root: Path, radio_mp3: bytes) -> None:
    station = Station(radio_mp3, BITRATE, pace=4, drop_after_bytes=40_000, refuse_after_drop=100)
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("gone.mp3", station)
        started = time.monotonic()
        r = run_cli("play", srv.url("gone.mp3"), "--output", "null", "--no-ui", timeout=40)
        took = time.monotonic() - started
    assert r.returncode == 3, r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "live stream lost" in errors[0], r.stderr
    assert route.connections == 1 + 5
    assert took < 15


def test_endless_chained_ogg_plays_past_its_old_end(radio_root: Path, tmp_path: Path) -> None:
    """A looped Ogg file with no length (a chained Ogg mount) ended at 2:40; now at --length."""
    import wave

    from kithara_cli.media.encode import encode_file
    from kithara_cli.server import Faults

    root = tmp_path / "ogg"
    root.mkdir()
    encode_file(root / "o.ogg", 3.0, "ogg")
    out = tmp_path / "o.wav"
    with MediaServer(root) as srv:
        srv.set_faults("o.ogg", Faults(endless=True, no_content_length=True))
        r = run_cli(
            "play",
            srv.url("o.ogg"),
            "--output",
            f"wav:{out}",
            "--length",
            "170",
            "--no-ui",
            timeout=60,
        )
    assert r.returncode == 0, r.stderr
    with wave.open(str(out)) as w:
        assert w.getnframes() / w.getframerate() >= 170
