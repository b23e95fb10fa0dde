"""Media that carries now-playing titles: chained Ogg, HLS packed audio and TS with timed ID3.

* :func:`chained_ogg` encodes one Ogg link per title (Vorbis with FFmpeg's native encoder, or
  Opus), each with its own comment header (TITLE, ARTIST); the links joined are a chained
  Ogg stream, as an Icecast Ogg mount sends it (each link's serial random, or one given to
  all: FFmpeg's muxer sets it, no page is rewritten). The links come back separately so that a test
  can decode each and know where, in samples, every link starts.
* :func:`build_titled_packed_stream` writes ADTS segments led by an ID3v2.4 tag carrying the
  Apple PRIV timestamp and TIT2/TPE1, as HLS radio does; with ``titles=()`` the same
  segments carry the timestamp only, so the two decode to the same audio.
* :func:`build_timed_id3_stream` muxes AAC and a ``timed_id3`` data stream through FFmpeg's
  ``hls`` muxer: each title is one ID3 PES (stream_type 0x15) at its own PTS, anywhere in a
  segment. Titles may be ``bytes`` (sent as Latin-1 text) to test hostile or legacy text.

Title times are in tone seconds (the stepped tone's own clock, see ``tone``).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av

from kithara_cli.media.encode import aac_options, layout_for, to_frame
from kithara_cli.media.ladder import (
    _APPLE_TS_OWNER,
    _BLOCK_FRAMES,
    _check_dir,
)
from kithara_cli.media.streams import _adts_segments, _syncsafe, _vod_playlist
from kithara_cli.media.tone import DEFAULT_RATE, tone_blocks

OggCodec = Literal["vorbis", "opus"]
Title = str | bytes  # bytes: Latin-1 text, sent as it is

HOSTILE_TITLES: tuple[Title, ...] = (
    "\x1b]52;c;SGVsbG8=\x07clipboard",
    "[bold red]markup[/bold red] \x9b2J",
    b"Caf\xe9 \x1b[2J\x07",
)
"""An OSC 52 clipboard write, Rich markup with a C1 CSI, Latin-1 text with escapes and BEL."""


@dataclass(frozen=True)
class OggLink:
    """One link of a chain: its comment header and how long it plays."""

    title: str
    artist: str = ""
    seconds: float = 2.0


def ogg_link(
    codec: OggCodec,
    link: OggLink,
    *,
    rate: int = 48000,
    start: float = 0.0,
    serial: int | None = None,
) -> bytes:
    """One complete Ogg stream (BOS to EOS) of the tone from ``start``, tagged with ``link``;
    its serial number is random unless ``serial`` is given (FFmpeg's muxer takes it as its
    ``serial_offset`` when bit-exact, which also leaves out the ``encoder`` comment)."""
    buf = io.BytesIO()
    options = {} if serial is None else {"serial_offset": str(serial), "fflags": "+bitexact"}
    with av.open(buf, "w", format="ogg", options=options) as out:
        if codec == "vorbis":  # FFmpeg's own encoder (no libvorbis in PyAV's build)
            stream = out.add_stream("vorbis", rate=rate, options={"strict": "experimental"})
        else:
            stream = out.add_stream("libopus", rate=rate)
        audio = stream
        audio.layout = layout_for(2)
        audio.metadata["TITLE"] = link.title
        if link.artist:
            audio.metadata["ARTIST"] = link.artist
        pts = 0
        for block in tone_blocks(link.seconds, rate=rate, start=start):
            out.mux(audio.encode(to_frame(block, rate, pts)))
            pts += block.shape[0]
        out.mux(audio.encode(None))
    return buf.getvalue()


def chained_ogg(
    codec: OggCodec, links: Sequence[OggLink], *, rate: int = 48000, serial: int | None = None
) -> list[bytes]:
    """Each link's bytes, the tone running on across them; ``b"".join`` is the chain. With
    ``serial`` every link has that serial number (a chain of files made with a fixed one)."""
    out: list[bytes] = []
    start = 0.0
    for link in links:
        out.append(ogg_link(codec, link, rate=rate, start=start, serial=serial))
        start += link.seconds
    return out


def _text_frame(fid: bytes, text: Title) -> bytes:
    body = b"\x00" + text if isinstance(text, bytes) else b"\x03" + text.encode("utf-8")
    return fid + _syncsafe(len(body)) + b"\x00\x00" + body


def cover_art_tag(title: str, art_bytes: int, seed: int = 0) -> bytes:
    """A podcast episode's leading ID3v2.4 tag: TIT2, then an APIC picture of ``art_bytes``
    (a PNG's magic and seeded noise: the same bytes on every call)."""
    import random

    picture = b"\x89PNG\r\n\x1a\n" + random.Random(seed).randbytes(art_bytes)
    apic = b"\x00image/png\x00\x03\x00" + picture  # Latin-1, MIME, front cover, no description
    frames = _text_frame(b"TIT2", title) + b"APIC" + _syncsafe(len(apic)) + b"\x00\x00" + apic
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


def id3_title_tag(title: Title | None, artist: str = "", *, pts_90k: int | None = None) -> bytes:
    """An ID3v2.4 tag: Apple's PRIV timestamp (if ``pts_90k``), then TIT2 and TPE1."""
    frames = b""
    if pts_90k is not None:
        payload = _APPLE_TS_OWNER + b"\x00" + struct.pack(">Q", pts_90k & ((1 << 33) - 1))
        frames += b"PRIV" + _syncsafe(len(payload)) + b"\x00\x00" + payload
    if title is not None:
        frames += _text_frame(b"TIT2", title)
    if artist:
        frames += _text_frame(b"TPE1", artist)
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


def build_titled_packed_stream(
    out_dir: Path,
    seconds: float,
    titles: Sequence[Title],
    *,
    name: str = "titled_packed",
    segments_per_title: int = 2,
    segment_seconds: float = 2.0,
    artist: str = "",
    rate: int = DEFAULT_RATE,
    bitrate: int = 128_000,
) -> tuple[Path, list[float]]:
    """``<name>.m3u8`` over ``<name>_%05d.aac``; returns it and each segment's start second.

    Every segment starts with an ID3 tag: the PRIV timestamp, and the title on air (title
    ``i`` for segments ``i*segments_per_title`` on, repeated as real streams repeat it; the
    last title holds to the end). No titles: the timestamp only.
    """
    out_dir = _check_dir(out_dir)
    body: list[str] = []
    durations: list[float] = []
    seg_starts: list[float] = []
    at = 0.0
    for seq, segment in enumerate(_adts_segments(seconds, rate, bitrate, segment_seconds)):
        title = titles[min(seq // segments_per_title, len(titles) - 1)] if titles else None
        seg = f"{name}_{seq:05d}.aac"
        tag = id3_title_tag(title, artist if title is not None else "", pts_90k=segment.pts_90k)
        (out_dir / seg).write_bytes(tag + segment.data)
        durations.append(segment.duration)
        seg_starts.append(at)
        at += durations[-1]
        body += [f"#EXTINF:{durations[-1]:.6f},", seg]
    path = out_dir / f"{name}.m3u8"
    path.write_text(_vod_playlist(durations, body))
    return path, seg_starts


def build_timed_id3_stream(
    out_dir: Path,
    seconds: float,
    titles: Sequence[tuple[float, Title]],
    *,
    name: str = "timed_id3",
    segment_seconds: float = 2.0,
    rate: int = DEFAULT_RATE,
    bitrate: int = 128_000,
) -> Path:
    """``<name>.m3u8`` over TS segments with AAC and, if ``titles``, a timed ID3 stream: one
    ID3 PES per (tone second, title), muxed before the audio packet at that second."""
    out_dir = _check_dir(out_dir)
    options = {
        "hls_time": repr(float(segment_seconds)),
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(out_dir / f"{name}_%05d.ts"),
        "hls_segment_type": "mpegts",
    }
    pending = sorted(titles, key=lambda t: t[0])
    with av.open(str(out_dir / f"{name}.m3u8"), "w", format="hls", options=options) as out:
        audio = out.add_stream("aac", rate=rate, options=aac_options(bitrate))
        audio.layout = "stereo"
        audio.bit_rate = bitrate
        data = out.add_data_stream("timed_id3") if pending else None
        pts = 0
        for block in tone_blocks(seconds, rate=rate, block_frames=_BLOCK_FRAMES):
            for packet in audio.encode(to_frame(block, rate, pts)):
                packet_pts = packet.pts if packet.pts is not None else 0
                while data is not None and pending and packet_pts / rate >= pending[0][0]:
                    second, title = pending.pop(0)
                    tag = av.Packet(id3_title_tag(title))
                    tag.stream = data
                    tag.time_base = Fraction(1, 90_000)
                    tag.pts = tag.dts = round(second * 90_000)
                    out.mux(tag)
                out.mux(packet)
            pts += block.shape[0]
        out.mux(audio.encode(None))
    return out_dir / f"{name}.m3u8"
