"""MP3 frame layout: CBR frame indices from byte offsets, checked against PyAV's demuxer."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from kithara_cli.audio.mp3_frames import (
    HEAD_BYTES,
    Mp3Cbr,
    cbr_layout,
    id3v2_size,
    parse_header,
)
from kithara_cli.media.encode import encode_file, to_frame
from kithara_cli.media.tone import tone_blocks


def _vbr_mp3(path: Path, seconds: float) -> Path:
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=44100)
        stream.layout = "stereo"
        stream.codec_context.qscale = True  # LAME's -V: variable bitrate, a Xing header
        stream.codec_context.global_quality = 4 * 118
        pts = 0
        for block in tone_blocks(seconds, rate=44100, channels=2):
            out.mux(stream.encode(to_frame(block, 44100, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))
    return path


def _layout(path: Path) -> Mp3Cbr | None:
    data = path.read_bytes()
    start = id3v2_size(data[:10])
    return cbr_layout(data[start : start + HEAD_BYTES], start)


def _packets(path: Path) -> list[tuple[int, int, int]]:
    """(pos, pts, duration) of every audio packet, as FFmpeg demuxes them from the start."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(p.pos, p.pts, p.duration) for p in container.demux(stream) if p.pts is not None]


@pytest.mark.parametrize(
    ("rate", "channels", "bitrate", "samples"),
    [(44100, 2, 128_000, 1152), (48000, 2, 192_000, 1152), (22050, 1, 32_000, 576)],
)
def test_cbr_frame_index_from_offset_matches_every_packet(
    tmp_path: Path, rate: int, channels: int, bitrate: int, samples: int
) -> None:
    path = encode_file(
        tmp_path / "t.mp3", 12.0, "mp3", rate=rate, channels=channels, bitrate=bitrate
    )
    layout = _layout(path)
    assert layout is not None
    assert (layout.samples_per_frame, layout.sample_rate) == (samples, rate)
    assert layout.frame_bytes == pytest.approx(samples / 8 * bitrate / rate)
    packets = _packets(path)
    assert len(packets) > 100
    assert packets[0][0] == layout.first_frame  # the Info frame is not audio
    for i, (pos, pts, duration) in enumerate(packets):
        assert layout.frame_index(pos) == i
        assert pts == i * duration


def test_vbr_and_other_containers_have_no_cbr_layout(tmp_path: Path) -> None:
    vbr = _vbr_mp3(tmp_path / "v.mp3", 6.0)
    assert b"Xing" in vbr.read_bytes()[:4096]
    assert _layout(vbr) is None
    flac = encode_file(tmp_path / "t.flac", 2.0, "flac")
    assert _layout(flac) is None
    assert cbr_layout(b"") is None
    assert cbr_layout(np.random.default_rng(3).bytes(HEAD_BYTES)) is None


def test_headers_and_tags() -> None:
    # 0xFFFB9064: MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding, joint stereo.
    header = parse_header(bytes.fromhex("fffb9064"))
    assert header is not None
    assert (header.bitrate, header.sample_rate, header.size, header.mono) == (
        128_000,
        44100,
        417,
        False,
    )
    assert parse_header(bytes.fromhex("fffd9064")) is None  # Layer II
    assert parse_header(bytes.fromhex("fffbf064")) is None  # bitrate index 15 (bad)
    assert id3v2_size(b"ID3\x04\x00\x00\x00\x00\x01\x7f") == 10 + 255
    assert id3v2_size(b"ID3\x04\x00\x10\x00\x00\x00\x05") == 10 + 5 + 10  # with a footer
    assert id3v2_size(b"\xff\xfb\x90\x64") == 0
