"""Codecs real packagers put in HLS beyond AAC: packed AC-3 and E-AC-3 audio (RFC 8216 3.4
lists them beside ADTS and MP3), and ladders whose variants differ in codec (AAC and AC-3 in
MPEG-TS, as Apple's examples ship), or a TS playlist that changes codec at a discontinuity.
All encoded by PyAV at test time."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from hls_fixtures import assert_tone, decode, fetch, play, tone_seconds
from kithara_cli.hls.sniff import container_of
from kithara_cli.media import cached
from kithara_cli.media.encode import to_frame
from kithara_cli.media.streams import id3_timestamp_tag
from kithara_cli.media.tone import tone_blocks
from kithara_cli.server import Faults, MediaServer

RATE = 48_000
FRAME = 1536  # samples per AC-3 / E-AC-3 frame
SECONDS = 8.0
SEGMENT_FRAMES = round(2.0 * RATE / FRAME)
BASE_PTS = 126_000  # 1.4 s in 90 kHz units, as Apple's packed audio starts
CODECS = {"ac3": "ac3", "eac3": "ec3"}  # codec -> segment extension


def _frames(codec: str) -> list[bytes]:
    """The stepped tone as raw ``codec`` sync frames, one per item."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=codec) as out:
        stream = out.add_stream(codec, rate=RATE)
        stream.layout = "stereo"
        pts = 0
        for block in tone_blocks(SECONDS, rate=RATE, block_frames=FRAME):
            out.mux(stream.encode(to_frame(block, RATE, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))
    buf.seek(0)
    with av.open(buf, format=codec) as src:
        return [bytes(p) for p in src.demux() if p.size]


def _build(root: Path) -> None:
    """``<codec>/index.m3u8`` over 2 s packed segments, each led by its ID3 timestamp tag."""
    for codec, ext in CODECS.items():
        folder = root / codec
        folder.mkdir()
        frames = _frames(codec)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2"]
        for k, first in enumerate(range(0, len(frames), SEGMENT_FRAMES)):
            chunk = frames[first : first + SEGMENT_FRAMES]
            tag = id3_timestamp_tag(BASE_PTS + first * FRAME * 90_000 // RATE)
            name = f"p_{k:05d}.{ext}"
            (folder / name).write_bytes(tag + b"".join(chunk))
            lines += [f"#EXTINF:{len(chunk) * FRAME / RATE:.6f},", name]
        lines.append("#EXT-X-ENDLIST")
        (folder / "index.m3u8").write_text("\n".join(lines) + "\n")


def _ts_stream(folder: Path, codec: str) -> None:
    """``folder/index.m3u8`` over 2 s MPEG-TS segments of the tone in ``codec``, by FFmpeg's
    own HLS muxer."""
    folder.mkdir()
    options = {
        "hls_time": "2.0",
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(folder / "s_%05d.ts"),
    }
    with av.open(str(folder / "index.m3u8"), "w", format="hls", options=options) as out:
        stream = out.add_stream(codec, rate=RATE)
        stream.layout = "stereo"
        size = stream.codec_context.frame_size or FRAME
        pts = 0
        for block in tone_blocks(SECONDS, rate=RATE, block_frames=size):
            out.mux(stream.encode(to_frame(block, RATE, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))


def _build_ts(root: Path) -> None:
    """``aac/`` and ``ac3/`` TS streams; ``master.m3u8`` over both (AAC the lower rung);
    ``switch.m3u8``: the first two AAC segments, a discontinuity, then AC-3 from 4 s on."""
    _ts_stream(root / "aac", "aac")
    _ts_stream(root / "ac3", "ac3")
    (root / "master.m3u8").write_text(
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"\naac/index.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS="ac-3"\nac3/index.m3u8\n'
    )
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2"]
    for i, folder in enumerate(("aac", "aac", "ac3", "ac3")):
        if i == 2:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += ["#EXTINF:2.0,", f"{folder}/s_{i:05d}.ts"]
    lines.append("#EXT-X-ENDLIST")
    (root / "switch.m3u8").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def packed_root() -> Path:
    return cached("s11-hls-packed-dolby-8s-v1", _build)


@pytest.fixture(scope="module")
def ts_root() -> Path:
    return cached("s11-hls-ts-aac-ac3-8s-v1", _build_ts)


@pytest.fixture
def ts_server(ts_root: Path):
    with MediaServer(ts_root) as srv:
        yield srv


@pytest.fixture
def packed_server(packed_root: Path):
    with MediaServer(packed_root) as srv:
        yield srv


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_packed_dolby_segments_are_known_media(packed_root: Path, codec: str) -> None:
    """Each segment (ID3 tag, then sync frames) is recognised as its codec; the same bytes
    cut short or shifted by one are not."""
    segment = sorted((packed_root / codec).glob("p_*"))[0].read_bytes()
    assert container_of(segment) == codec
    frames_only = segment[segment.index(b"\x0b\x77") :]
    assert container_of(frames_only) == codec
    assert container_of(frames_only[1:]) is None


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_play_packed_dolby_audio(packed_server: MediaServer, tmp_path: Path, codec: str) -> None:
    """Play hears the whole tone, second by second. Before: 'segment 0 is not audio we can
    read', exit 5."""
    wav = tmp_path / "out.wav"
    proc = play(packed_server.url(f"{codec}/index.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert "undecodable" not in proc.stderr, proc.stderr
    assert_tone(wav, SECONDS)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_fetch_packed_dolby_audio_is_its_frames(
    packed_root: Path, packed_server: MediaServer, tmp_path: Path, codec: str
) -> None:
    """The sync frames of every segment, in order, without the ID3 tags between them (FFmpeg
    reads a tag mid-stream as a broken frame): a clean .ac3 / .ec3 that decodes whole."""
    out = tmp_path / f"out.{CODECS[codec]}"
    proc = fetch(packed_server.url(f"{codec}/index.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    segments = [p.read_bytes() for p in sorted((packed_root / codec).glob("p_*"))]
    assert out.read_bytes() == b"".join(s[s.index(b"\x0b\x77") :] for s in segments)
    assert_tone(out, SECONDS)


def test_a_failover_to_a_variant_in_another_codec_plays_on(
    ts_server: MediaServer, tmp_path: Path
) -> None:
    """AAC and AC-3 variants in MPEG-TS; the AAC variant's third segment fails, so it comes
    from the AC-3 one: the decoder starts afresh there and every second of the tone is heard.
    Before: 'undecodable stream', exit 5, after 4 s."""
    ts_server.set_faults("aac/s_00002.ts", Faults(fail_first=10**6, fail_status=503))
    wav = tmp_path / "out.wav"
    url = ts_server.url("master.m3u8")
    proc = play(url, "--output", f"wav:{wav}", "--abr", "fixed:0", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert ts_server.stats.requests("ac3/s_00002.ts"), "the segment came from the AC-3 variant"
    heard = tone_seconds(decode(wav))
    assert heard == list(range(round(SECONDS))), heard


def test_a_discontinuity_into_another_codec_plays_on(
    ts_server: MediaServer, tmp_path: Path
) -> None:
    """One TS playlist: AAC, EXT-X-DISCONTINUITY, then AC-3 (a break packaged apart). Before:
    playback stopped at the discontinuity, 4 s of 8 heard."""
    wav = tmp_path / "out.wav"
    proc = play(ts_server.url("switch.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    heard = tone_seconds(decode(wav))
    assert heard == list(range(round(SECONDS))), heard


def test_fetch_of_e_ac_3_into_m4a_is_saved_not_refused(
    packed_server: MediaServer, tmp_path: Path
) -> None:
    """``-o show.m4a`` of an E-AC-3 stream (a ladder's best variant, often): MP4 carries
    E-AC-3, only the iTunes flavour of it refuses. Before: exit 5 and the download kept as
    .ec3 beside the .m4a asked for."""
    out = tmp_path / "show.m4a"
    proc = fetch(packed_server.url("eac3/index.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["show.m4a"]
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "eac3"
    assert_tone(out, SECONDS)
