"""Opening a container with PyAV and reading what it says about its audio.

The decoder's thread, commands and timeline live in ``decoder``; this module is the part that
only talks to PyAV: the probe (a hint first, FFmpeg's own probe if the hint lied), the
stream's facts (``Opened``), and Ogg's length from its last page.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kithara_cli.audio.reader import CountingReader, ogg_last_granule

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.packet import Packet

# PyAV's wheel carries FFmpeg with its encoders, ~60 MB of shared objects. Loaded with lazy
# binding, each binds a symbol on its first call instead of all of them at load: 4 % of
# PyAV's import (13 M of its 315 M instructions), which is on the way to first audio.
_dlopen_flags = sys.getdlopenflags()
sys.setdlopenflags((_dlopen_flags & ~os.RTLD_NOW) | os.RTLD_LAZY)
try:
    import av
    import av.error
finally:
    sys.setdlopenflags(_dlopen_flags)

# Small probing so the first audio needs only the start of the file (see the package docs).
PROBE_OPTIONS: dict[str, str] = {"probesize": "32768", "analyzeduration": "500000"}
# For sources still downloading: seek by computed byte position (MP3: from the bitrate)
# instead of FFmpeg's default exact seek, which *reads every frame* up to the target - over
# HTTP, a linear download of everything before it. Samples before the target are still
# dropped by timestamp. CBR MP3 still lands on the sample (FFmpeg's timestamp is corrected by
# ``mp3_frames``); VBR MP3 lands where its Xing table of contents says, tens of ms off.
FAST_SEEK_OPTIONS: dict[str, str] = {**PROBE_OPTIONS, "fflags": "+fastseek"}
# Bytes PyAV asks the source for per read: small, so we never read far past what we need.
IO_BUFFER_SIZE = 16384
# Demuxers whose duration comes from the file's own header or index.
_DECLARED_DURATION = frozenset({"mp3", "flac", "wav", "ogg", "mov", "matroska"})

_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


@dataclass(frozen=True)
class SourceInfo:
    """What the container says about the audio stream (for TrackInfo and logs)."""

    container: str
    codec: str
    sample_rate: int
    channels: int
    duration: float | None


@dataclass(frozen=True)
class Opened:
    """An open container's audio stream and the facts the decoder's timeline needs."""

    container: InputContainer
    stream: AudioStream
    time_base: float
    start_pts: int
    duration: float | None
    trust_duration: bool
    """The length is declared (header, index), not estimated: a shorter stream is truncated."""
    trim_to_duration: bool
    """The MP4 edit list gives the exact length; AAC's end padding is cut to it."""
    info: SourceInfo


def layout_for(channels: int) -> str:
    try:
        return _LAYOUTS[channels]
    except KeyError:
        raise ValueError(f"unsupported channel count: {channels}") from None


def has_usable_audio(container: InputContainer) -> bool:
    if not container.streams.audio:
        return False
    codec = container.streams.audio[0].codec_context
    return bool(codec.sample_rate) and bool(codec.layout.nb_channels)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def open_container(
    reader: CountingReader, fmt: str | None, options: dict[str, str]
) -> InputContainer:
    """The container, by the hinted demuxer first; FFmpeg's probe if the hint lied. Raises
    PyAV's errors (the caller turns them into typed ones)."""
    container = None
    if fmt is not None:
        try:
            container = av.open(
                reader, "r", format=fmt, options=options, buffer_size=IO_BUFFER_SIZE
            )
        except av.error.FFmpegError:
            container = None
        if container is not None and not has_usable_audio(container):
            container.close()  # the hint lied (a demuxer accepted foreign bytes)
            container = None
        if container is None:
            reader.seek(0)
    if container is None:
        container = av.open(reader, "r", options=options, buffer_size=IO_BUFFER_SIZE)
    return container


def inspect(container: InputContainer, *, sequential: bool) -> Opened:
    """The facts of ``container``'s first audio stream (it has one: ``has_usable_audio``)."""
    stream = container.streams.audio[0]
    duration: float | None = None
    if stream.duration is not None and stream.duration > 0 and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None and container.duration > 0:
        duration = container.duration / 1_000_000
    if sequential:
        duration = None  # a stream's header covers its start (fMP4: the first fragment)
    name = container.format.name
    codec = stream.codec_context
    return Opened(
        container=container,
        stream=stream,
        time_base=float(stream.time_base) if stream.time_base else 1.0 / 90000,
        start_pts=stream.start_time if stream.start_time is not None else 0,
        duration=duration,
        # MPEG-TS and raw ADTS estimate their length from the bitrate: no truncation proof.
        trust_duration=name.split(",")[0] in _DECLARED_DURATION,
        trim_to_duration="mp4" in name and duration is not None,
        info=SourceInfo(
            container=name,
            codec=codec.name,
            sample_rate=int(codec.sample_rate or stream.sample_rate or 0),
            channels=int(codec.layout.nb_channels or 0),
            duration=duration,
        ),
    )


class ByteTimeline:
    """Where the demuxed packets lie, in bytes and in timeline seconds: a file's length from
    its byte length (exact for CBR). Not the reader's position, which runs tens of KB ahead of
    what is demuxed (FFmpeg's buffer): that made such an estimate 0.5 s off under load."""

    def __init__(self, time_base: float, start_pts: int, origin: float) -> None:
        self._tb = time_base
        self._start = start_pts
        self._origin = origin
        self._first: tuple[int, float] | None = None
        self._last: tuple[int, float] | None = None

    def note(self, packet: Packet) -> None:
        pos, pts, duration = packet.pos, packet.pts, packet.duration
        if pos is None or pos < 0 or pts is None or not duration:
            return
        if self._first is None:
            self._first = (pos, (pts - self._start) * self._tb)
        self._last = (pos + packet.size, (pts + duration - self._start) * self._tb)

    def seconds_for(self, total: int) -> float | None:
        """Timeline second at byte ``total`` at the rate seen so far (None: under 1 s seen)."""
        first, last = self._first, self._last
        if first is None or last is None or last[1] - first[1] < 1.0 or last[0] <= first[0]:
            return None
        rate = (last[0] - first[0]) / (last[1] - first[1])
        return self._origin + first[1] + (total - first[0]) / rate


def ogg_duration(
    reader: CountingReader, stream: AudioStream, size: int | None
) -> tuple[float | None, bool]:
    """Ogg's length, from the granule position of its last page (None when not found), and
    whether it is a chain of links (its last page is another link's: the first link's last
    granule is then not the length, which stays None; see ``ogg_chain``)."""
    try:
        found = ogg_last_granule(reader, size)
    except Exception:
        return None, False
    if found is None:
        return None, False
    _, granule, chained = found
    if chained or granule < 0:
        return None, chained
    codec = stream.codec_context
    if codec.name == "opus":
        extradata = codec.extradata or b""
        pre_skip = struct.unpack_from("<H", extradata, 10)[0] if len(extradata) >= 12 else 0
        seconds = (granule - pre_skip) / 48000
    else:
        rate = codec.sample_rate or stream.sample_rate
        if not rate:
            return None, False
        seconds = granule / rate
    return (seconds if seconds > 0 else None), False
