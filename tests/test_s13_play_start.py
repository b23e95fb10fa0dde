"""``kithara play --start T`` with T at or past the end of the media.

Before: it played nothing and exited 0 (a script could not tell). Now: a one-line error and
exit 2 (usage) for a progressive file, a local file and VOD HLS; in a queue the item is
skipped with a warning and the next plays (mpv: "Errors when loading file" and the next file;
exit 2 alone, 3 when others played), the run still exits 2. A live stream has no end: --start there plays from the live edge.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import assert_one_line_error, assert_tone, live_window, play
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

USAGE = 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kithara_cli.media import encode_file

    root = tmp_path_factory.mktemp("s13-start")
    encode_file(root / "tone.mp3", 4.0, "mp3")
    encode_file(root / "tone.flac", 3.0, "flac")
    return root


@pytest.fixture
def file_server(files: Path):
    with MediaServer(files) as srv:
        yield srv


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


@pytest.mark.parametrize("where", ["http", "local"])
def test_start_past_the_end_of_a_file_is_an_error(
    files: Path, file_server: MediaServer, tmp_path: Path, where: str
) -> None:
    url = file_server.url("tone.mp3") if where == "http" else str(files / "tone.mp3")
    wav = tmp_path / "out.wav"
    proc = play(url, "--start", "30", "--output", f"wav:{wav}")
    assert proc.returncode == USAGE, proc.stderr
    line = assert_one_line_error(proc, "--start 30", "past the end", "which lasts 4 s")
    assert "Traceback" not in line
    assert wav_seconds(wav) == 0.0


def test_start_just_before_the_end_still_plays(file_server: MediaServer, tmp_path: Path) -> None:
    """The error is for nothing played, not for a start near the end."""
    wav = tmp_path / "out.wav"
    proc = play(file_server.url("tone.mp3"), "--start", "3.5", "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert 0.3 <= wav_seconds(wav) <= 0.7


@pytest.mark.parametrize("playlist", ["ts/master.m3u8", "ts/128k.m3u8", "fmp4/master.m3u8"])
def test_start_past_the_end_of_vod_hls_is_an_error(
    hls_server: MediaServer, tmp_path: Path, playlist: str
) -> None:
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    url = hls_server.url(playlist)
    proc = play(url, "--start", "1:00", "--output", f"wav:{wav}", "--events", str(events))
    assert proc.returncode == USAGE, proc.stderr
    # (The plain log's line for the ABR's first choice comes before it.)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("kithara: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert errors[0] == proc.stderr.strip().splitlines()[-1]
    for needle in ("--start 1:00", "past the end", "which lasts 20 s"):
        assert needle in errors[0], errors[0]
    assert wav_seconds(wav) == 0.0
    names = [json.loads(line)["event"] for line in events.read_text().splitlines()]
    assert "EndOfStream" not in names and "PlaybackStarted" not in names


def test_a_queue_skips_the_item_and_plays_the_next(
    file_server: MediaServer, tmp_path: Path
) -> None:
    """--start is the first item's; past its end, a warning names it, the second item plays
    whole, and the run's exit code is the skipped item's."""
    wav = tmp_path / "out.wav"
    first, second = file_server.url("tone.mp3"), file_server.url("tone.flac")
    proc = play(first, second, "--start", "10", "--output", f"wav:{wav}")
    assert proc.returncode == USAGE, proc.stderr
    assert "item 1 of 2 failed (--start 10 is past the end" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("kithara: error: --start 10")
    assert_tone(wav, 3.0)


def test_live_hls_start_plays_from_the_edge(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """A live playlist has no end to be past: --start warns and plays from the live edge
    (as for a live radio stream), it never fails nor waits for a position that is not there."""
    ladder = hls_media.ts
    names = [p.name for p in ladder.segments[0]]
    durations = ladder.segment_durations[0]

    t0: list[float] = []

    def handler(path: str, query: dict[str, str], now: float):
        t0.append(now)
        visible = min(len(names), 5 + int((now - t0[0]) / 0.5))  # one more each 0.5 s
        body = live_window(names, durations, visible, 6, False)
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body

    hls_server.add_route("ts/live.m3u8", handler)
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    url = hls_server.url("ts/live.m3u8")
    args = ("--start", "30", "--length", "1", "--output", f"wav:{wav}", "--events", str(events))
    proc = play(url, *args, timeout=30)
    assert proc.returncode == 0, proc.stderr
    notes = [json.loads(line) for line in events.read_text().splitlines()]
    assert any("live stream plays from now" in e.get("message", "") for e in notes)
    assert wav_seconds(wav) >= 0.9
