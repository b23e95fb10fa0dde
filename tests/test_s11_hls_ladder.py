"""A ladder whose variants are not cut alike: 2 s segments in one, 6 s in the other (two
packagers, or an audio rendition cut apart from the video's). Playback that takes a segment
from the other variant must not play the same seconds twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hls_fixtures import decode, play, tone_seconds
from kithara_cli.media import build_ladder, cached
from kithara_cli.server import Faults, MediaServer

SECONDS = 20


def _build(root: Path) -> None:
    build_ladder(root / "two", SECONDS, bitrates=(64_000,), segment_seconds=2.0)
    build_ladder(root / "six", SECONDS, bitrates=(128_000,), segment_seconds=6.0)
    (root / "master.m3u8").write_text(
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\ntwo/64k.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS="mp4a.40.2"\nsix/128k.m3u8\n'
    )


@pytest.fixture
def unaligned() -> Iterator[MediaServer]:
    with MediaServer(cached("s11-hls-unaligned-2s-6s-20s-v1", _build)) as srv:
        yield srv


def test_a_failover_to_longer_segments_does_not_repeat_audio(
    unaligned: MediaServer, tmp_path: Path
) -> None:
    """The 2 s variant's fourth segment (6-8 s) fails; the 6 s variant serves it with its
    6-12 s segment, and playback goes back to the 2 s variant at 12 s, not at 8 s. Before:
    seconds 8-11 were heard twice (24 s of a 20 s programme)."""
    unaligned.set_faults("two/64k_00003.ts", Faults(fail_first=10**6, fail_status=503))
    wav = tmp_path / "out.wav"
    url = unaligned.url("master.m3u8")
    proc = play(url, "--output", f"wav:{wav}", "--abr", "fixed:0", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert unaligned.stats.requests("six/128k_00001.ts"), "the 6 s variant served 6-12 s"
    heard = tone_seconds(decode(wav))
    assert heard == list(range(SECONDS)), heard
