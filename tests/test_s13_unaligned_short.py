"""A switch from long HLS segments to short ones (6 s variant, then a 2 s one), TS and fMP4.

Playing the 6 s variant, a switch at 6 s to the 2 s variant must fetch every 2 s segment that
covers the 6 s slot (6-8, 8-10, 10-12), not only the one at the slot's start. Before: only
6-8 was fetched and seconds 8-11 of the tone were lost (16 s of audio for 20). Now the next
fetch is the segment that holds the end of the audio placed (as hls.js picks the fragment
after a level switch by the buffer's end), until the slot is covered. The switch is forced
by failover (the 6 s variant's segments answer 404), so it always happens at the same place;
failing only the 6-12 s segment goes back to the 6 s variant at 12 s (long -> short -> long).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hls_fixtures import RATE, decode, play, tone_seconds
from kithara_cli.hls.model import MediaPlaylist, Segment
from kithara_cli.media import build_ladder, cached
from kithara_cli.server import Faults, MediaServer

SECONDS = 20.0
KINDS = ("ts", "fmp4")
EXT = {"ts": "ts", "fmp4": "m4s"}


def _build(root: Path) -> None:
    """Per container, ``long/`` (128k, 6 s segments) and ``short/`` (64k, 2 s segments) of the
    same tone, and ``master.m3u8`` over both (v0 the long one, which playback starts on)."""
    for kind in KINDS:
        build_ladder(
            root / kind / "long",
            SECONDS,
            bitrates=(128_000,),
            segment_seconds=6.0,
            segment_type=kind,  # type: ignore[arg-type]
        )
        build_ladder(
            root / kind / "short",
            SECONDS,
            bitrates=(64_000,),
            segment_seconds=2.0,
            segment_type=kind,  # type: ignore[arg-type]
        )
        (root / kind / "master.m3u8").write_text(
            "#EXTM3U\n"
            '#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS="mp4a.40.2"\nlong/128k.m3u8\n'
            '#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"\nshort/64k.m3u8\n'
        )


@pytest.fixture(scope="module")
def root() -> Path:
    return cached("s13-hls-unaligned-6s-2s-20s-ts-fmp4-v1", _build)


@pytest.fixture
def server(root: Path):
    with MediaServer(root) as srv:
        yield srv


def _played(
    server: MediaServer, tmp_path: Path, kind: str, *args: str
) -> tuple[list[int], float, list]:
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    url = server.url(f"{kind}/master.m3u8")
    proc = play(url, "--output", f"wav:{wav}", "--events", str(events), "--abr", "fixed:0", *args)
    assert proc.returncode == 0, proc.stderr
    pcm = decode(wav)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    loaded = [(e["sequence"], e["variant"]) for e in lines if e["event"] == "SegmentLoaded"]
    return tone_seconds(pcm), pcm.shape[0] / RATE, loaded


def _fail(server: MediaServer, kind: str, *sequences: int) -> None:
    for seq in sequences:
        name = f"{kind}/long/128k_{seq:05d}.{EXT[kind]}"
        server.set_faults(name, Faults(fail_first=100, fail_status=404))


def _playlist(durations: list[float]) -> MediaPlaylist:
    segments = tuple(
        Segment(f"s{i}.ts", d, 10 + i, None, None, None, False, 0) for i, d in enumerate(durations)
    )
    return MediaPlaylist("http://x/p.m3u8", segments, 2, 10, 0, True, "VOD")


def test_the_next_segment_is_the_one_holding_the_end_of_the_audio_placed() -> None:
    """By media time, with hls.js's lookup tolerance: one ending within it is passed over."""
    media = _playlist([2.020136, 1.996916, 1.996916, 1.996916, 1.996916, 0.02322])
    assert media.segment_from(0.0, 0.05) == 0
    assert media.segment_from(6.013968, 0.05) == 3  # starts there
    assert media.segment_from(7.0, 0.05) == 3  # holds it
    assert media.segment_from(7.98, 0.05) == 4  # 3 ends 31 ms later: less than the tolerance
    assert media.segment_from(99.0, 0.05) == 5  # clamped to the last
    assert [media.position(s) for s in media.segments] == list(range(6))


def test_the_variants_are_cut_unalike(root: Path) -> None:
    for kind in KINDS:
        short = (root / kind / "short" / "64k.m3u8").read_text().count("#EXTINF")
        long = (root / kind / "long" / "128k.m3u8").read_text().count("#EXTINF")
        assert short >= 10 and long in (4, 5), (kind, short, long)


@pytest.mark.parametrize("kind", KINDS)
def test_a_switch_to_shorter_segments_loses_no_second(
    server: MediaServer, tmp_path: Path, kind: str
) -> None:
    _fail(server, kind, 1, 2, 3)
    heard, seconds, loaded = _played(server, tmp_path, kind)
    assert loaded[0] == (0, 0), loaded
    assert [s for s, v in loaded if v == 1][:3] == [3, 4, 5], f"6-12 s in 2 s segments: {loaded}"
    assert heard == list(range(round(SECONDS))), heard
    assert abs(seconds - SECONDS) < 0.1, f"{seconds:.3f} s of audio for {SECONDS}"


@pytest.mark.parametrize("kind", KINDS)
def test_long_short_long_plays_every_second_once(
    server: MediaServer, tmp_path: Path, kind: str
) -> None:
    _fail(server, kind, 1)
    heard, seconds, loaded = _played(server, tmp_path, kind)
    assert loaded[:4] == [(0, 0), (3, 1), (4, 1), (5, 1)], loaded
    assert (2, 0) in loaded and (3, 0) in loaded, f"back on the 6 s variant at 12 s: {loaded}"
    assert heard == list(range(round(SECONDS))), heard
    assert abs(seconds - SECONDS) < 0.1, f"{seconds:.3f} s of audio for {SECONDS}"


@pytest.mark.parametrize("kind", KINDS)
def test_a_start_inside_a_slot_served_in_short_segments_plays_to_the_end(
    server: MediaServer, tmp_path: Path, kind: str
) -> None:
    """``--start 9``: the run opens at the 6-12 s slot, which the 2 s variant serves from
    6 s; before, 4 s of audio came out for 11 (seconds 12, 13, 18 only)."""
    _fail(server, kind, 1, 2, 3)
    heard, seconds, _ = _played(server, tmp_path, kind, "--start", "9")
    assert heard == list(range(9, round(SECONDS))), heard
    assert abs(seconds - (SECONDS - 9)) < 0.1, f"{seconds:.3f} s of audio for {SECONDS - 9}"
