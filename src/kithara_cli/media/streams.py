"""HLS fixtures beyond the plain ladder: byte ranges, a discontinuity, an audio rendition
master beside a muxed stream, and packed audio (ADTS with ID3 timestamps)."""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from kithara_cli.media.encode import aac_options, to_frame
from kithara_cli.media.ladder import (
    _APPLE_TS_OWNER,
    _BLOCK_FRAMES,
    ALT_AUDIO_BASE_HZ,
    PACKED_AUDIO_BASE_PTS,
    _check_dir,
    _mux_hls,
    _Rendition,
    _target_duration,
)
from kithara_cli.media.tone import DEFAULT_RATE, tone_blocks


def _vod_playlist(durations: Sequence[float], body: Sequence[str], version: int = 3) -> str:
    """A whole VOD media playlist: the header every fixture here shares, ``body``, the end."""
    header = [
        f"#EXT-X-VERSION:{version}",
        f"#EXT-X-TARGETDURATION:{_target_duration(durations)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    return "\n".join(["#EXTM3U", *header, *body, "#EXT-X-ENDLIST"]) + "\n"


def build_byterange_stream(
    out_dir: Path, seconds: float, bitrate: int = 128_000, segment_seconds: float = 2.0
) -> Path:
    """``byterange.m3u8``: EXT-X-BYTERANGE slices of one ``byterange.ts``.

    Even segments carry an explicit ``length@offset``; odd ones give only the length, so the
    client must take the offset from the end of the previous range (RFC 8216 4.3.2.2).
    """
    out_dir = _check_dir(out_dir)
    (pl,) = _mux_hls(
        out_dir, [_Rendition("byterange", bitrate)], seconds, segment_seconds=segment_seconds
    )
    big = out_dir / "byterange.ts"
    body: list[str] = []
    offset = 0
    with big.open("wb") as sink:
        for i, (duration, uri) in enumerate(zip(pl.durations, pl.uris, strict=True)):
            part = out_dir / uri
            data = part.read_bytes()
            sink.write(data)
            part.unlink()
            body.append(f"#EXTINF:{duration:.6f},")
            spec = f"{len(data)}@{offset}" if i % 2 == 0 else f"{len(data)}"
            body.append(f"#EXT-X-BYTERANGE:{spec}")
            body.append(big.name)
            offset += len(data)
    pl.path.write_text(_vod_playlist(pl.durations, body, version=4))
    return pl.path


def build_discontinuity_stream(
    out_dir: Path,
    seconds_a: float,
    seconds_b: float,
    *,
    segment_seconds: float = 2.0,
) -> Path:
    """``discontinuity.m3u8``: part A (44.1 kHz, 128k) then ``#EXT-X-DISCONTINUITY`` and part B.

    Part B is a separate encode at 48 kHz / 96k whose timestamps restart, like an ad splice;
    its tone continues from second ``seconds_a`` so position analysis stays continuous.
    """
    out_dir = _check_dir(out_dir)
    (part_a,) = _mux_hls(
        out_dir, [_Rendition("disc_a", 128_000)], seconds_a, segment_seconds=segment_seconds
    )
    (part_b,) = _mux_hls(
        out_dir,
        [_Rendition("disc_b", 96_000)],
        seconds_b,
        rate=48000,
        segment_seconds=segment_seconds,
        start=seconds_a,
    )
    body: list[str] = []
    for i, part in enumerate((part_a, part_b)):
        if i:
            body.append("#EXT-X-DISCONTINUITY")
        for duration, uri in zip(part.durations, part.uris, strict=True):
            body += [f"#EXTINF:{duration:.6f},", uri]
        part.path.unlink()
    path = out_dir / "discontinuity.m3u8"
    path.write_text(_vod_playlist(part_a.durations + part_b.durations, body))
    return path


def _null_ts(packets: int = 4) -> bytes:
    """Valid MPEG-TS made only of null packets (PID 0x1FFF): fetchable, but holds no audio."""
    return (b"\x47\x1f\xff\x10" + b"\xff" * 184) * packets


def build_audio_rendition_master(
    out_dir: Path, seconds: float, *, segment_seconds: float = 2.0
) -> Path:
    """``alt_master.m3u8``: video-style variants that take their audio from an EXT-X-MEDIA group.

    Group ``aud`` has "en" (DEFAULT=YES, ``alt_audio_en.m3u8``) and "de" (``alt_audio_de.m3u8``,
    tone shifted up by 1000 Hz, see ALT_AUDIO_BASE_HZ). The STREAM-INF variants point at
    ``alt_video_*.m3u8`` whose segments are null-packet placeholders: an audio-only client must
    fetch the rendition playlists and never those segments.
    """
    out_dir = _check_dir(out_dir)
    audio = _mux_hls(
        out_dir,
        [_Rendition(f"alt_audio_{lang}", 128_000, hz) for lang, hz in ALT_AUDIO_BASE_HZ.items()],
        seconds,
        segment_seconds=segment_seconds,
    )
    durations = audio[0].durations
    videos = [("360p", "640x360", 800_000), ("720p", "1280x720", 2_000_000)]
    placeholder = _null_ts()
    for label, _res, _bw in videos:
        body: list[str] = []
        for i, duration in enumerate(durations):
            seg = f"alt_video_{label}_{i:05d}.ts"
            (out_dir / seg).write_bytes(placeholder)
            body += [f"#EXTINF:{duration:.6f},", seg]
        (out_dir / f"alt_video_{label}.m3u8").write_text(_vod_playlist(durations, body))
    names = {"en": "English", "de": "Deutsch"}
    lines = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for i, (lang, pl) in enumerate(zip(ALT_AUDIO_BASE_HZ, audio, strict=True)):
        default = "YES" if i == 0 else "NO"
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="{names.get(lang, lang)}",'
            f'LANGUAGE="{lang}",DEFAULT={default},AUTOSELECT=YES,CHANNELS="2",'
            f'URI="{pl.path.name}"'
        )
    for label, res, bw in videos:
        lines.append(
            f'#EXT-X-STREAM-INF:BANDWIDTH={bw},CODECS="avc1.4d401f,mp4a.40.2",'
            f'RESOLUTION={res},AUDIO="aud"'
        )
        lines.append(f"alt_video_{label}.m3u8")
    path = out_dir / "alt_master.m3u8"
    path.write_text("\n".join(lines) + "\n")
    return path


def _adts_frames(data: bytes) -> list[bytes]:
    """Split an ADTS stream into frames using each header's 13-bit frame_length."""
    frames: list[bytes] = []
    pos = 0
    while pos + 7 <= len(data):
        if data[pos] != 0xFF or data[pos + 1] & 0xF0 != 0xF0:
            raise ValueError(f"lost ADTS sync at byte {pos}")
        length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        frames.append(data[pos : pos + length])
        pos += length
    return frames


def _encode_adts(seconds: float, rate: int, bitrate: int) -> list[bytes]:
    """The test tone as stereo AAC, one ADTS frame (1024 samples) per item."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="adts") as out:
        stream = out.add_stream("aac", rate=rate, options=aac_options(bitrate))
        stream.layout = "stereo"
        stream.bit_rate = bitrate
        pts = 0
        for block in tone_blocks(seconds, rate=rate, block_frames=_BLOCK_FRAMES):
            out.mux(stream.encode(to_frame(block, rate, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))
    return _adts_frames(buf.getvalue())


def _syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3_timestamp_tag(pts_90k: int) -> bytes:
    """ID3v2.4 tag with the Apple PRIV frame giving the segment's first 90 kHz timestamp.

    Packed audio has no container timestamps; HLS (RFC 8216 3.4) puts them here. The value is a
    33-bit MPEG-2 timestamp in an 8-byte big-endian field.
    """
    payload = _APPLE_TS_OWNER + b"\x00" + struct.pack(">Q", pts_90k & ((1 << 33) - 1))
    frame = b"PRIV" + _syncsafe(len(payload)) + b"\x00\x00" + payload
    return b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame


@dataclass(frozen=True)
class _AdtsSegment:
    """One packed-audio segment: its first frame's timestamp, its length, its ADTS frames."""

    pts_90k: int
    duration: float
    data: bytes


def _adts_segments(
    seconds: float, rate: int, bitrate: int, segment_seconds: float
) -> list[_AdtsSegment]:
    """The tone as ADTS cut into segments of about ``segment_seconds`` (1024 samples a frame),
    timestamped from PACKED_AUDIO_BASE_PTS as Apple's packed-audio streams are."""
    frames = _encode_adts(seconds, rate, bitrate)
    per_segment = max(1, round(segment_seconds * rate / 1024))
    starts = list(range(0, len(frames), per_segment))
    if len(starts) > 1 and len(frames) - starts[-1] < per_segment / 2:
        starts.pop()  # fold a short tail (the priming overhang) into the last segment
    bounds = [*starts[1:], len(frames)]
    return [
        _AdtsSegment(
            pts_90k=PACKED_AUDIO_BASE_PTS + first * 1024 * 90_000 // rate,
            duration=(end - first) * 1024 / rate,
            data=b"".join(frames[first:end]),
        )
        for first, end in zip(starts, bounds, strict=True)
    ]


def build_packed_audio_stream(
    out_dir: Path,
    seconds: float,
    *,
    bitrate: int = 128_000,
    segment_seconds: float = 2.0,
    rate: int = DEFAULT_RATE,
) -> Path:
    """``packed.m3u8`` over ``packed_%05d.aac``: raw ADTS segments, each led by an ID3 PRIV tag.

    The tag carries the timestamp of the segment's first AAC frame (1024 samples per frame)
    starting at PACKED_AUDIO_BASE_PTS, as Apple's packed-audio streams do.
    """
    out_dir = _check_dir(out_dir)
    body: list[str] = []
    durations: list[float] = []
    for seq, seg in enumerate(_adts_segments(seconds, rate, bitrate, segment_seconds)):
        name = f"packed_{seq:05d}.aac"
        (out_dir / name).write_bytes(id3_timestamp_tag(seg.pts_90k) + seg.data)
        durations.append(seg.duration)
        body += [f"#EXTINF:{durations[-1]:.6f},", name]
    path = out_dir / "packed.m3u8"
    path.write_text(_vod_playlist(durations, body))
    return path
