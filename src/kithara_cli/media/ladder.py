"""HLS fixtures built with PyAV's ``hls`` muxer (plus hand-written playlists where it can't).

Every builder writes into ``out_dir`` with relative URIs, so the directory can be served as-is
by any static HTTP server. File names are distinct per builder, so several builders may share
one directory:

* :func:`build_ladder` - ``master.m3u8``, ``<name>.m3u8``, ``<name>_00000.ts|.m4s``,
  ``<name>_init.mp4`` (fmp4), ``key.bin`` (AES), ``ladder.json`` (manifest for :meth:`Ladder.load`)
* :func:`build_byterange_stream` - ``byterange.m3u8`` + ``byterange.ts``
* :func:`build_discontinuity_stream` - ``discontinuity.m3u8`` + ``disc_a_*.ts``, ``disc_b_*.ts``
* :func:`build_audio_rendition_master` - ``alt_master.m3u8``, ``alt_audio_{en,de}.m3u8`` and
  segments, ``alt_video_{360p,720p}.m3u8`` with placeholder (null-packet) ``.ts`` segments
* :func:`build_packed_audio_stream` - ``packed.m3u8`` + ``packed_00000.aac`` ...

Encryption is done here, not with the muxer's ``hls_key_info_file``: with no IV line that option
makes this FFmpeg encrypt *every* segment with IV 0 and write ``IV=0x0...0`` into the playlist,
so it never exercises the client's "IV = media sequence number" rule; and it refuses fmp4
outright (PATCHWELCOME).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kithara_cli.media.encode import aac_options, layout_for, to_frame
from kithara_cli.media.tone import BASE_HZ, DEFAULT_RATE, tone_blocks

SegmentType = Literal["ts", "fmp4"]

MASTER_NAME = "master.m3u8"
KEY_NAME = "key.bin"
MANIFEST_NAME = "ladder.json"

ALT_AUDIO_BASE_HZ: dict[str, float] = {"en": BASE_HZ, "de": BASE_HZ + 1000.0}
"""Tone base per rendition language: "de" sounds like "en" 40 s later (+1000 Hz), so a test
can tell from the audio alone which rendition a client played."""

PACKED_AUDIO_BASE_PTS = 126_000
"""First 90 kHz timestamp in the packed-audio ID3 tags (1.4 s). Deliberately non-zero (the TS
fixtures start at PTS 0) so a client must treat it as an offset, not as the position."""

_APPLE_TS_OWNER = b"com.apple.streaming.transportStreamTimestamp"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_BLOCK_FRAMES = 1 << 15


@dataclass
class Ladder:
    """What :func:`build_ladder` produced. Paths are absolute; ``key_uri`` is as in playlists."""

    out_dir: Path
    master: Path
    variants: list[Path]
    names: list[str]
    bitrates: list[int]
    """Nominal encoder bitrates, in variant order."""
    bandwidths: list[int]
    """BANDWIDTH advertised in the master (includes container overhead, so > bitrates)."""
    segments: list[list[Path]]
    """Media segment files per variant, in playlist order (init sections not included)."""
    segment_counts: list[int]
    segment_durations: list[list[float]]
    seconds: float
    segment_seconds: float
    segment_type: SegmentType
    init_segments: list[Path | None] = field(default_factory=list)
    key: bytes | None = None
    key_path: Path | None = None
    key_uri: str | None = None
    iv: bytes | None = None
    """Explicit IV if one was written to the playlists; None means IV = media sequence number."""

    def to_json(self) -> dict[str, Any]:
        """Manifest with paths relative to ``out_dir`` (the directory may be moved/renamed)."""

        def rel(p: Path | None) -> str | None:
            return None if p is None else p.relative_to(self.out_dir).as_posix()

        return {
            "master": rel(self.master),
            "variants": [rel(p) for p in self.variants],
            "names": self.names,
            "bitrates": self.bitrates,
            "bandwidths": self.bandwidths,
            "segments": [[rel(p) for p in segs] for segs in self.segments],
            "segment_counts": self.segment_counts,
            "segment_durations": self.segment_durations,
            "seconds": self.seconds,
            "segment_seconds": self.segment_seconds,
            "segment_type": self.segment_type,
            "init_segments": [rel(p) for p in self.init_segments],
            "key": None if self.key is None else self.key.hex(),
            "key_path": rel(self.key_path),
            "key_uri": self.key_uri,
            "iv": None if self.iv is None else self.iv.hex(),
        }

    @classmethod
    def load(cls, out_dir: Path) -> Ladder:
        """Rebuild the description of a ladder built earlier (e.g. from the fixture cache)."""
        data = json.loads((out_dir / MANIFEST_NAME).read_text())

        def ab(p: str | None) -> Path | None:
            return None if p is None else out_dir / p

        def ab_req(p: str) -> Path:
            return out_dir / p

        return cls(
            out_dir=out_dir,
            master=ab_req(data["master"]),
            variants=[ab_req(p) for p in data["variants"]],
            names=list(data["names"]),
            bitrates=list(data["bitrates"]),
            bandwidths=list(data["bandwidths"]),
            segments=[[ab_req(p) for p in segs] for segs in data["segments"]],
            segment_counts=list(data["segment_counts"]),
            segment_durations=[list(d) for d in data["segment_durations"]],
            seconds=float(data["seconds"]),
            segment_seconds=float(data["segment_seconds"]),
            segment_type=data["segment_type"],
            init_segments=[ab(p) for p in data["init_segments"]],
            key=None if data["key"] is None else bytes.fromhex(data["key"]),
            key_path=ab(data["key_path"]),
            key_uri=data["key_uri"],
            iv=None if data["iv"] is None else bytes.fromhex(data["iv"]),
        )


@dataclass(frozen=True)
class _Rendition:
    name: str
    bitrate: int
    base_hz: float = BASE_HZ


@dataclass
class _MediaPlaylist:
    path: Path
    durations: list[float]
    uris: list[str]
    map_uri: str | None


def _parse_media_playlist(path: Path) -> _MediaPlaylist:
    """Just enough parsing for the playlists the muxer writes (EXTINF, MAP, URIs)."""
    durations: list[float] = []
    uris: list[str] = []
    map_uri: str | None = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            durations.append(float(line[len("#EXTINF:") :].split(",")[0]))
        elif line.startswith("#EXT-X-MAP:"):
            match = re.search(r'URI="([^"]+)"', line)
            map_uri = match.group(1) if match else None
        elif line and not line.startswith("#"):
            uris.append(line)
    return _MediaPlaylist(path, durations, uris, map_uri)


def _target_duration(durations: Sequence[float]) -> int:
    """Smallest integer that every EXTINF rounds (half up) to at most, per RFC 8216 4.3.3.1."""
    return max(1, *(math.floor(d + 0.5) for d in durations))


def _check_dir(out_dir: Path) -> Path:
    out_dir = out_dir.resolve()
    if "%" in str(out_dir):
        raise ValueError(f"the hls muxer treats '%' as a pattern; bad out_dir {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def _mux_hls(
    out_dir: Path,
    renditions: Sequence[_Rendition],
    seconds: float,
    *,
    rate: int = DEFAULT_RATE,
    channels: int = 2,
    segment_seconds: float = 2.0,
    segment_type: SegmentType = "ts",
    master_name: str | None = None,
    start: float = 0.0,
) -> list[_MediaPlaylist]:
    """Encode the tone once per rendition through one ``hls`` muxer.

    Writes ``<name>.m3u8``, ``<name>_%05d.ts|.m4s`` (and ``<name>_init.mp4`` for fmp4) per
    rendition, plus ``master_name`` if given. Option names verified with PyAV 18.1 (FFmpeg 8.1).
    """
    for r in renditions:
        if not _NAME_RE.match(r.name):
            raise ValueError(f"variant name {r.name!r} must match {_NAME_RE.pattern}")
    ext = "m4s" if segment_type == "fmp4" else "ts"
    options = {
        # %v in the playlist name is mandatory with more than one variant stream.
        "var_stream_map": " ".join(f"a:{i},name:{r.name}" for i, r in enumerate(renditions)),
        "hls_time": repr(float(segment_seconds)),
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(out_dir / f"%v_%05d.{ext}"),
        "hls_segment_type": "fmp4" if segment_type == "fmp4" else "mpegts",
    }
    if segment_type == "fmp4":
        options["hls_fmp4_init_filename"] = "%v_init.mp4"
    if master_name is not None:
        options["master_pl_name"] = master_name
    with av.open(str(out_dir / "%v.m3u8"), "w", format="hls", options=options) as out:
        streams = []
        for r in renditions:
            stream = out.add_stream("aac", rate=rate, options=aac_options(r.bitrate))
            stream.layout = layout_for(channels)
            stream.bit_rate = r.bitrate
            streams.append(stream)
        sources: dict[float, Iterator[np.ndarray]] = {
            hz: tone_blocks(
                seconds,
                rate=rate,
                channels=channels,
                base_hz=hz,
                start=start,
                block_frames=_BLOCK_FRAMES,
            )
            for hz in {r.base_hz for r in renditions}
        }
        pts = 0
        # Every source yields equal-sized blocks, so they stay in lockstep.
        for blocks in zip(*sources.values(), strict=True):
            by_hz = dict(zip(sources, blocks, strict=True))
            for r, stream in zip(renditions, streams, strict=True):
                out.mux(stream.encode(to_frame(by_hz[r.base_hz], rate, pts)))
            pts += blocks[0].shape[0]
        for stream in streams:
            out.mux(stream.encode(None))
    unnamed_init = out_dir / "%v_init.mp4"
    if unnamed_init.exists():  # one variant: the muxer leaves %v in the init's name
        (name,) = (r.name for r in renditions)
        unnamed_init.rename(out_dir / f"{name}_init.mp4")
        playlist = out_dir / f"{name}.m3u8"
        playlist.write_text(playlist.read_text().replace("%v_init.mp4", f"{name}_init.mp4"))
    return [_parse_media_playlist(out_dir / f"{r.name}.m3u8") for r in renditions]


def _encrypt_segment(path: Path, key: bytes, iv: bytes) -> None:
    """AES-128-CBC with PKCS#7 over the whole segment, as HLS METHOD=AES-128 requires."""
    padder = padding.PKCS7(128).padder()
    plain = padder.update(path.read_bytes()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    path.write_bytes(encryptor.update(plain) + encryptor.finalize())


def _add_key_line(playlist: Path, key_uri: str, iv: bytes | None) -> None:
    """Insert EXT-X-KEY before the first segment, after EXT-X-MAP (so the init stays clear)."""
    attrs = f'METHOD=AES-128,URI="{key_uri}"'
    if iv is not None:
        attrs += f",IV=0x{iv.hex().upper()}"
    lines = playlist.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("#EXTINF:"))
    lines.insert(at, f"#EXT-X-KEY:{attrs}")
    playlist.write_text("\n".join(lines) + "\n")


def _master_bandwidths(master: Path) -> list[int]:
    return [int(m) for m in re.findall(r"[:,]BANDWIDTH=(\d+)", master.read_text())]


def build_ladder(
    out_dir: Path,
    seconds: float,
    *,
    bitrates: Sequence[int] = (64_000, 128_000, 256_000),
    segment_seconds: float = 2.0,
    segment_type: SegmentType = "ts",
    aes_key: bytes | None = None,
    names: Sequence[str] | None = None,
    aes_iv: bytes | None = None,
    rate: int = DEFAULT_RATE,
    channels: int = 2,
) -> Ladder:
    """An ABR ladder of the stepped tone: one AAC variant per bitrate plus a master playlist.

    With ``aes_key`` (16 bytes) every segment is AES-128 encrypted, ``key.bin`` holds the key and
    playlists carry ``#EXT-X-KEY:METHOD=AES-128,URI="key.bin"`` with no IV attribute, so the IV
    of segment ``i`` is its media sequence number (``i``, 16-byte big-endian). Pass ``aes_iv``
    to write an explicit IV attribute instead and encrypt every segment with it.
    Names default to ``64k``, ``128k``...; variant playlists are ``<name>.m3u8``.
    """
    out_dir = _check_dir(out_dir)
    names = list(names) if names is not None else [f"{b // 1000}k" for b in bitrates]
    if len(names) != len(bitrates) or len(set(names)) != len(names) or not names:
        raise ValueError("need one distinct name per bitrate")
    if aes_key is not None and len(aes_key) != 16:
        raise ValueError("AES-128 key must be 16 bytes")
    if aes_iv is not None and (aes_key is None or len(aes_iv) != 16):
        raise ValueError("aes_iv needs aes_key and must be 16 bytes")
    playlists = _mux_hls(
        out_dir,
        [_Rendition(n, b) for n, b in zip(names, bitrates, strict=True)],
        seconds,
        rate=rate,
        channels=channels,
        segment_seconds=segment_seconds,
        segment_type=segment_type,
        master_name=MASTER_NAME,
    )
    master = out_dir / MASTER_NAME
    key_path: Path | None = None
    key_uri: str | None = None
    if aes_key is not None:
        key_path = out_dir / KEY_NAME
        key_path.write_bytes(aes_key)
        key_uri = KEY_NAME
        for pl in playlists:
            for seq, uri in enumerate(pl.uris):  # the muxer starts at media sequence 0
                _encrypt_segment(out_dir / uri, aes_key, aes_iv or seq.to_bytes(16, "big"))
            _add_key_line(pl.path, key_uri, aes_iv)
    ladder = Ladder(
        out_dir=out_dir,
        master=master,
        variants=[pl.path for pl in playlists],
        names=names,
        bitrates=list(bitrates),
        bandwidths=_master_bandwidths(master),
        segments=[[out_dir / u for u in pl.uris] for pl in playlists],
        segment_counts=[len(pl.uris) for pl in playlists],
        segment_durations=[pl.durations for pl in playlists],
        seconds=seconds,
        segment_seconds=segment_seconds,
        segment_type=segment_type,
        init_segments=[None if pl.map_uri is None else out_dir / pl.map_uri for pl in playlists],
        key=aes_key,
        key_path=key_path,
        key_uri=key_uri,
        iv=aes_iv,
    )
    (out_dir / MANIFEST_NAME).write_text(json.dumps(ladder.to_json(), indent=1))
    return ladder
