"""A switch between HLS variants whose segments are cut unalike (2 s beside 6 s).

Playing the 2 s variant, a switch at 8 s to the 6 s variant takes its segment 6-12 s: its
first 2 s were already played. Before: they were played again (the run's bytes went to the
decoder as one stream, 22 s of audio for 20, seconds 6 and 7 twice). Now the new segment is a
part of its own that the decoder trims by timestamp to where the audio played ends. The switch
is forced by a failover (the 2 s variant's segment 4 answers 404), so it always happens at the
same place.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hls_fixtures import RATE, decode, play, tone_seconds
from kithara_cli.media import build_ladder, cached
from kithara_cli.server import Faults, MediaServer

SECONDS = 20.0


def _build(root: Path) -> None:
    """``short/`` (64k, 2 s segments) and ``long/`` (128k, 6 s segments) of the same tone,
    and ``master.m3u8`` over both (v0 the short one)."""
    build_ladder(root / "short", SECONDS, bitrates=(64_000,), segment_seconds=2.0)
    build_ladder(root / "long", SECONDS, bitrates=(128_000,), segment_seconds=6.0)
    (root / "master.m3u8").write_text(
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"\nshort/64k.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS="mp4a.40.2"\nlong/128k.m3u8\n'
    )


@pytest.fixture(scope="module")
def unaligned_root() -> Path:
    return cached("s13-hls-unaligned-2s-6s-20s-v1", _build)


@pytest.fixture
def unaligned_server(unaligned_root: Path):
    with MediaServer(unaligned_root) as srv:
        yield srv


def _played(server: MediaServer, tmp_path: Path, *args: str) -> tuple[list[int], float, list]:
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    url = server.url("master.m3u8")
    proc = play(url, "--output", f"wav:{wav}", "--events", str(events), *args)
    assert proc.returncode == 0, proc.stderr
    pcm = decode(wav)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    loaded = [(e["sequence"], e["variant"]) for e in lines if e["event"] == "SegmentLoaded"]
    return tone_seconds(pcm), pcm.shape[0] / RATE, loaded


def test_the_variants_are_cut_unalike(unaligned_root: Path) -> None:
    short = (unaligned_root / "short" / "64k.m3u8").read_text().count("#EXTINF")
    long = (unaligned_root / "long" / "128k.m3u8").read_text().count("#EXTINF")
    assert (short, long) in ((10, 4), (11, 4), (10, 5), (11, 5)), (short, long)


def test_a_switch_to_longer_segments_plays_no_span_twice(
    unaligned_server: MediaServer, tmp_path: Path
) -> None:
    unaligned_server.set_faults("short/64k_00004.ts", Faults(fail_first=100, fail_status=404))
    heard, seconds, loaded = _played(unaligned_server, tmp_path, "--abr", "fixed:0")
    assert (1, 1) in loaded, f"the 6-12 s segment came from the 6 s variant: {loaded}"
    assert (4, 0) not in loaded and (5, 0) not in loaded, loaded
    assert heard == list(range(round(SECONDS))), heard
    assert abs(seconds - SECONDS) < 0.1, f"{seconds:.3f} s of audio for {SECONDS}"
