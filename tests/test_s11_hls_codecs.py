"""Codecs real packagers put in HLS beyond AAC: packed AC-3 and E-AC-3 audio (RFC 8216 3.4
lists them beside ADTS and MP3), encoded by PyAV at test time."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from hls_fixtures import assert_tone, concat, fetch, play
from kithara_cli.hls.sniff import container_of
from kithara_cli.media import cached
from kithara_cli.media.encode import to_frame
from kithara_cli.media.streams import id3_timestamp_tag
from kithara_cli.media.tone import tone_blocks
from kithara_cli.server import MediaServer

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


@pytest.fixture(scope="module")
def packed_root() -> Path:
    return cached("s11-hls-packed-dolby-8s-v1", _build)


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
def test_fetch_packed_dolby_audio_is_the_segments_as_served(
    packed_root: Path, packed_server: MediaServer, tmp_path: Path, codec: str
) -> None:
    out = tmp_path / f"out.{CODECS[codec]}"
    proc = fetch(packed_server.url(f"{codec}/index.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(sorted((packed_root / codec).glob("p_*")))
