"""``fetch playlist.m3u8 --out x.m4a``: the remuxed file starts at 0 and is as long as its audio.

Real MPEG-TS segments start at 1.4 s (FFmpeg's muxer offset); kept as they were, the .m4a
started at 1.4 s and said 41.4 s for 40 s of audio (players and taggers show the container's
end time). ``ffmpeg -c copy`` starts it at 0, and so does kithara's remux.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest

import hls_fixtures
from hls_fixtures import HlsMedia, fetch, playlist_text
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

AAC_FRAME = 1024  # samples per AAC frame: the tolerance on a length
TS_OFFSET = 126_000  # 1.4 s at 90 kHz: where FFmpeg's MPEG-TS muxer starts a stream
VARIANT = 1


@pytest.fixture(scope="module")
def offset_root(hls_media: HlsMedia, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ladder's TS segments of one variant, their timestamps moved 1.4 s later (the
    fixtures' own start at 0), and a playlist over them."""
    root = tmp_path_factory.mktemp("offset-ts")
    ladder = hls_media.ts
    for segment in ladder.segments[VARIANT]:
        with av.open(str(segment)) as src, av.open(str(root / segment.name), "w", "mpegts") as dst:
            stream = src.streams.audio[0]
            out = dst.add_stream_from_template(stream)
            for packet in src.demux(stream):
                if packet.dts is None:
                    continue
                packet.dts += TS_OFFSET
                packet.pts = packet.dts if packet.pts is None else packet.pts + TS_OFFSET
                packet.stream = out
                dst.mux(packet)
    entries = [
        (d, p.name)
        for d, p in zip(ladder.segment_durations[VARIANT], ladder.segments[VARIANT], strict=True)
    ]
    (root / "media.m3u8").write_text(playlist_text(["#EXT-X-TARGETDURATION:3"], entries))
    return root


@pytest.fixture
def offset_server(offset_root: Path) -> Iterator[MediaServer]:
    with MediaServer(offset_root) as srv:
        yield srv


def audio_seconds(path: Path) -> float:
    """Seconds of audio the file decodes to (its samples at its own rate)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def test_the_segments_really_start_late(offset_root: Path) -> None:
    first = sorted(offset_root.glob("*.ts"))[0]
    with av.open(str(first)) as container:
        assert (container.start_time or 0) / av.time_base == pytest.approx(1.4)


@pytest.mark.parametrize("name", ["out.m4a", "out.mka"])
def test_remuxed_file_starts_at_zero_and_lasts_as_long_as_its_audio(
    hls_media: HlsMedia, offset_server: MediaServer, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    proc = fetch(offset_server.url("media.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    heard = audio_seconds(out)
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        first = next(iter(container.demux(stream)))
        assert first.pts == 0, first.pts
        assert (container.start_time or 0) == 0, container.start_time
        length = container.duration / av.time_base
    assert abs(length - heard) <= AAC_FRAME / rate, (length, heard)
    assert abs(length - hls_media.ts.seconds) <= 2 * AAC_FRAME / rate, length
