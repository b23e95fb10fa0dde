"""ICY titles as real stations write them: ``';`` inside a title, Windows-1252 punctuation.

Found by a user-level review of ``kithara play`` (session 10): a value ended at the first
``';``, so ``Guns N' Roses - Knockin';  On Heaven's Door`` lost everything after it.
"""

from __future__ import annotations

from pathlib import Path

import radio_fixtures
from conftest import play_null, run_cli
from kithara_cli.radio.icy import parse_metadata
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

QUOTED = "Say 'Hi';' Bye' - it's ';'"


def test_a_quote_semicolon_inside_a_title_does_not_end_it() -> None:
    """A value ends at ``';`` followed by the next ``Key='`` or by the end of the block."""
    raw = f"StreamTitle='{QUOTED}';StreamUrl='http://x/?a=';b';".encode()
    assert parse_metadata(raw + b"\0\0\0") == {
        "StreamTitle": QUOTED,
        "StreamUrl": "http://x/?a=';b",
    }
    assert parse_metadata(b"StreamTitle='A - B';StreamUrl='';") == {
        "StreamTitle": "A - B",
        "StreamUrl": "",
    }
    assert parse_metadata(b"StreamTitle='no end") == {"StreamTitle": "no end"}
    assert parse_metadata(b"StreamTitle='it';s';  ") == {"StreamTitle": "it';s"}


def test_the_whole_title_reaches_the_events(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    station = Station(
        radio_mp3,
        BITRATE,
        pace=4,
        metaint=2000,
        titles=[QUOTED, b"Don\x92t Stop"],
        title_every=8000,
    )
    with MediaServer(radio_root) as srv:
        srv.add_radio("r.mp3", station)
        ev = tmp_path / "ev.jsonl"
        r = play_null(srv.url("r.mp3"), ev, length="2.5")
    assert r.returncode == 0, r.stderr
    titles = {e["title"] for e in read_events(ev) if e["event"] == "TitleChanged"}
    assert titles == {QUOTED, "Don’t Stop"}, titles
    assert f"TITLE     {QUOTED}" in r.stderr


def test_start_on_a_live_stream_is_ignored_with_a_note(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """A live stream cannot seek: ``--start 10`` played 10 s of silence first (the decoder
    dropped the audio up to 0:10 in real time), then every title of it at once."""
    station = Station(radio_mp3, BITRATE, pace=1, metaint=2000, titles=["a", "b"], title_every=8000)
    with MediaServer(radio_root) as srv:
        srv.add_radio("r.mp3", station)
        ev = tmp_path / "ev.jsonl"
        r = run_cli(
            "play",
            srv.url("r.mp3"),
            "--output",
            "null",
            "--start",
            "10",
            "--length",
            "1",
            "--no-ui",
            "--events",
            str(ev),
            timeout=30,
        )
    assert r.returncode == 0, r.stderr
    events = read_events(ev)
    (started,) = [e for e in events if e["event"] == "PlaybackStarted"]
    assert started["time_to_first_audio"] < 5.0, started
    notes = [e["message"] for e in events if e["event"] == "Notice"]
    assert any("--start" in n and "live" in n for n in notes), notes
    assert len([e for e in events if e["event"] == "TitleChanged"]) <= 3
