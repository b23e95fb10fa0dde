"""Remuxing a finished HLS download into another container with PyAV (no re-encoding).

The output's timeline starts at 0, whatever the segments' own timestamps.
"""

from __future__ import annotations

import os
from pathlib import Path

from kithara_cli.errors import DecoderError, OutputError, UnsupportedError, UsageError
from kithara_cli.hls.sniff import NATIVE_EXTENSIONS

# --out extensions PyAV can write audio into, and the muxer each one names.
MUXERS = {
    ".m4a": "ipod",
    ".mp4": "mp4",
    ".mka": "matroska",
    ".mkv": "matroska",
    ".ts": "mpegts",
    ".aac": "adts",
    ".mp3": "mp3",
    ".ogg": "ogg",
    ".flac": "flac",
}


# What FFmpeg's ``ipod`` muxer (the .m4a iTunes flavour) takes; other codecs go in plain MP4.
IPOD_CODECS = frozenset({"aac", "alac"})


def needs_remux(out: Path, container: str | None, forced: bool) -> bool:
    """Remux when asked, or when --out names a container we can write other than the source's.

    An extension we cannot write (``.bin``, none) keeps the source container as it is.
    """
    if container is None:
        return False
    ext = out.suffix.lower()
    if forced:
        return True
    return ext in MUXERS and ext not in NATIVE_EXTENSIONS.get(container, ())


def check_remux_target(out: Path, forced: bool) -> None:
    """Refuse ``--remux`` into a container we cannot write before anything is downloaded."""
    ext = out.suffix.lower()
    if forced and ext not in MUXERS:
        names = ", ".join(sorted(MUXERS))
        raise UsageError(f"cannot remux into {ext or 'a file with no extension'} (use {names})")


def _adts_format(data: bytes) -> tuple[int, int] | None:
    """(sampling index, channel configuration) of an ADTS frame, None if not ADTS."""
    if len(data) < 7 or data[0] != 0xFF or data[1] & 0xF6 != 0xF0:
        return None
    return (data[2] >> 2) & 0x0F, ((data[2] & 0x01) << 2) | (data[3] >> 6)


def init_audio_format(data: bytes) -> str | None:
    """An fMP4 init section's audio as ``codec rate Hz layout`` (None: it names no audio or
    PyAV cannot read it): two inits that differ so cannot share one output file."""
    import io

    import av

    try:
        with av.open(io.BytesIO(data)) as src:
            if not src.streams.audio:
                return None
            ctx = src.streams.audio[0].codec_context
            return f"{ctx.name} {ctx.sample_rate} Hz {ctx.layout.name}"
    except (av.error.FFmpegError, ValueError):
        return None


def remux(source: Path, out: Path, drop: frozenset[int] = frozenset()) -> None:
    """Copy the audio stream of ``source`` into ``out``'s container, atomically; the packets
    at the demux indices ``drop`` are left out (``overlap``: audio a recording holds twice)."""
    import av

    ext = out.suffix.lower()
    muxer = MUXERS.get(ext)
    if muxer is None:
        raise UnsupportedError(f"cannot remux into {ext or 'a file with no extension'}")
    tmp = out.with_name(out.name + ".remux.part")
    try:
        with av.open(str(source)) as src:
            audio = next((s for s in src.streams if s.type == "audio"), None)
            if audio is None:
                raise DecoderError("no audio stream in the download")
            if muxer == "ipod" and audio.codec_context.name not in IPOD_CODECS:
                muxer = "mp4"  # .m4a of AC-3, E-AC-3, MP3, Opus...: the MP4 muxer takes them
            with av.open(str(tmp), "w", format=muxer) as dst:
                out_stream = dst.add_stream_from_template(audio)
                fmt: tuple[int, int] | None = None
                # The output starts at 0 (as ``ffmpeg -c copy`` into MP4 does): the first
                # packet's timestamp is taken off every one (MPEG-TS starts at 1.4 s, which
                # players and taggers would count as part of the length). Timestamps also
                # restart after a discontinuity: ``shift`` keeps them increasing.
                shift: int | None = None
                next_dts: int | None = None
                for index, packet in enumerate(src.demux(audio)):
                    if packet.dts is None or packet.size == 0 or index in drop:
                        continue
                    this = _adts_format(bytes(packet))
                    if this is not None:
                        if fmt is not None and this != fmt:
                            raise UnsupportedError(
                                f"cannot remux into {ext}: the audio format changes mid-stream "
                                "(at a discontinuity)"
                            )
                        fmt = this
                    duration = packet.duration or 0
                    if shift is None:
                        first = packet.dts if packet.pts is None else min(packet.dts, packet.pts)
                        shift = -first
                    if next_dts is not None and packet.dts + shift < next_dts - duration:
                        shift = next_dts - packet.dts + (0 if duration else 1)
                    packet.dts += shift
                    if packet.pts is not None:
                        packet.pts += shift
                    next_dts = packet.dts + duration
                    packet.stream = out_stream
                    dst.mux(packet)
    except UnsupportedError:
        _unlink(tmp)
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        _unlink(tmp)
        raise UnsupportedError(f"cannot remux into {ext}: {exc}") from exc
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(f"cannot write {out}: {exc.strerror}") from exc
    os.replace(tmp, out)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
