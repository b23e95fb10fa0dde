"""``kithara fetch`` of MPEG-TS HLS whose audio changes at an EXT-X-DISCONTINUITY.

Before: the segments went raw into one file, exit 0. With AAC then MP3 (an ad packaged
apart) FFmpeg reads the file as one AAC stream: the MP3 half fails to decode (PyAV raises
mid-file) and players skip or garble it. Now: refused with one line naming the segment and the
tag (exit 5, as an EXT-X-MAP init change already was), nothing left at --out; the same codec at
another rate (AAC 44.1 then 48 kHz, which FFmpeg decodes by its ADTS headers) is kept, with a
warning naming the discontinuity; a discontinuity where nothing changes says nothing.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

import hls_fixtures
from hls_fixtures import (
    SECONDS,
    assert_nothing_written,
    assert_one_line_error,
    assert_tone,
    decode,
    fetch,
    play,
    playlist_text,
    static,
    tone_seconds,
)
from kithara_cli.media import cached
from kithara_cli.media.encode import to_frame
from kithara_cli.media.tone import tone_blocks
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

PART = 4.0  # seconds on each side of the discontinuity
RATE = 44100


def _ts_stream(folder: Path, codec: str, start: float) -> list[tuple[float, str]]:
    """``folder/s_*.ts``: PART seconds of the tone from second ``start`` in ``codec``, cut by
    FFmpeg's own HLS muxer; returns (duration, uri relative to the root) per segment."""
    folder.mkdir()
    options = {
        "hls_time": "2.0",
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(folder / "s_%05d.ts"),
    }
    with av.open(str(folder / "index.m3u8"), "w", format="hls", options=options) as out:
        stream = out.add_stream(codec, rate=RATE)
        stream.layout = "stereo"
        size = stream.codec_context.frame_size or 1152
        pts = 0
        for block in tone_blocks(PART, rate=RATE, block_frames=size, start=start):
            out.mux(stream.encode(to_frame(block, RATE, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))
    lines = (folder / "index.m3u8").read_text().splitlines()
    return [
        (float(line.split(":", 1)[1].rstrip(",")), f"{folder.name}/{lines[i + 1]}")
        for i, line in enumerate(lines)
        if line.startswith("#EXTINF:")
    ]


def _build(root: Path) -> None:
    """``aac_mp3.m3u8``: AAC from 0 s, a discontinuity, MP3 from PART s (two ladders of
    one rung each, joined by hand as an ad splice is)."""
    aac = _ts_stream(root / "aac", "aac", 0.0)
    mp3 = _ts_stream(root / "mp3", "libmp3lame", PART)
    text = playlist_text(["#EXT-X-TARGETDURATION:2"], aac, end=False)
    text += "#EXT-X-DISCONTINUITY\n" + playlist_text([], mp3).removeprefix("#EXTM3U\n")
    (root / "aac_mp3.m3u8").write_text(text)


@pytest.fixture(scope="module")
def splice_root() -> Path:
    return cached("s13-hls-aac-then-mp3-8s-v1", _build)


@pytest.fixture
def splice_server(splice_root: Path):
    with MediaServer(splice_root) as srv:
        yield srv


def test_the_fixture_is_what_players_misread(splice_root: Path) -> None:
    """The raw concatenation (what fetch wrote before) holds one AAC stream to FFmpeg, and
    decoding it fails in the MP3 half: the defect, shown without kithara."""
    segments = sorted((splice_root / "aac").glob("s_*.ts")) + sorted(
        (splice_root / "mp3").glob("s_*.ts")
    )
    joined = splice_root.parent / "s13-joined.ts"
    joined.write_bytes(b"".join(p.read_bytes() for p in segments))
    try:
        with av.open(str(joined)) as container:
            assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        with pytest.raises(av.error.FFmpegError):
            decode(joined)
    finally:
        joined.unlink()


@pytest.mark.parametrize("name", ["out.ts", "out.m4a"])
def test_fetch_refuses_a_codec_change_at_a_discontinuity(
    splice_server: MediaServer, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    proc = fetch(splice_server.url("aac_mp3.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 5, proc.stderr
    assert_one_line_error(
        proc, "from aac 44100 Hz stereo to mp3 44100 Hz stereo", "segment 3", "DISCONTINUITY"
    )
    assert_nothing_written(out)
    assert list(tmp_path.iterdir()) == []


def test_play_of_the_same_splice_hears_every_second(
    splice_server: MediaServer, tmp_path: Path
) -> None:
    """What the error offers instead: play decodes each side with its own decoder."""
    wav = tmp_path / "out.wav"
    proc = play(splice_server.url("aac_mp3.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert tone_seconds(decode(wav)) == list(range(round(2 * PART)))


def test_a_rate_change_is_kept_with_a_warning(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("misc/discontinuity.m3u8"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "audio changes" in line]
    assert len(warnings) == 1, proc.stderr
    assert "aac 44100 Hz stereo to aac 48000 Hz stereo" in warnings[0]
    assert "DISCONTINUITY" in warnings[0] and "segment 6" in warnings[0]
    assert_tone(out, SECONDS)


def test_a_discontinuity_with_the_same_audio_says_nothing(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    ladder = hls_media.ts
    entries = [(ladder.segment_durations[1][i], ladder.segments[1][i].name) for i in range(4)]
    text = playlist_text(["#EXT-X-TARGETDURATION:2"], entries, end=False)
    text += "#EXT-X-DISCONTINUITY\n" + playlist_text([], entries).removeprefix("#EXTM3U\n")
    hls_server.add_route("ts/again.m3u8", static(text))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/again.m3u8"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "audio changes" not in proc.stderr
    assert out.stat().st_size == 2 * sum(p.stat().st_size for p in ladder.segments[1][:4])


def test_a_live_recording_ends_at_a_codec_change_and_keeps_what_came(
    splice_root: Path, splice_server: MediaServer, tmp_path: Path
) -> None:
    """Live, the recording so far is not thrown away for an ad in another codec: it ends
    at the discontinuity, saved whole, with a warning (exit 0, as a live recording stopped
    by Ctrl-C or --duration)."""
    lines = (splice_root / "aac_mp3.m3u8").read_text().splitlines()
    entries = [
        (lines[i], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXTINF")
    ]
    cut = sum(1 for _, uri in entries if uri.startswith("aac/"))
    requests: list[float] = []

    def live(path: str, query: dict[str, str], now: float):
        requests.append(now)
        visible = min(len(entries), cut + len(requests) - 1)  # one more per reload
        body = ["#EXTM3U", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
        for i, (extinf, uri) in enumerate(entries[:visible]):
            body += (["#EXT-X-DISCONTINUITY"] if i == cut else []) + [extinf, uri]
        body += ["#EXT-X-ENDLIST"] if visible == len(entries) else []
        text = "\n".join(body) + "\n"
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, text.encode()

    splice_server.add_route("live.m3u8", live)
    out = tmp_path / "rec.ts"
    proc = fetch(splice_server.url("live.m3u8"), "-o", str(out), "--live-edge", "10")
    assert proc.returncode == 0, proc.stderr
    assert "live recording stopped" in proc.stderr and "segment 3" in proc.stderr, proc.stderr
    aac = sorted((splice_root / "aac").glob("s_*.ts"))
    assert out.read_bytes() == b"".join(p.read_bytes() for p in aac)
    assert tone_seconds(decode(out)) == list(range(round(PART)))
