"""Remuxing a finished HLS download into another container with PyAV (no re-encoding)."""

from __future__ import annotations

import os
from pathlib import Path

from kithara_cli.errors import DecoderError, OutputError, UnsupportedError
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


def needs_remux(out: Path, container: str | None, forced: bool) -> bool:
    if container is None:
        return False
    ext = out.suffix.lower()
    if forced:
        return True
    if not ext:
        return False
    return ext not in NATIVE_EXTENSIONS.get(container, ())


def remux(source: Path, out: Path) -> None:
    """Copy the audio stream of ``source`` into ``out``'s container, atomically."""
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
            with av.open(str(tmp), "w", format=muxer) as dst:
                out_stream = dst.add_stream_from_template(audio)
                for packet in src.demux(audio):
                    if packet.dts is None:
                        continue
                    packet.stream = out_stream
                    dst.mux(packet)
    except (av.error.FFmpegError, ValueError) as exc:
        _unlink(tmp)
        codec = ""
        raise UnsupportedError(f"cannot remux into {ext}: {exc}{codec}") from exc
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(f"cannot write {out}: {exc.strerror}") from exc
    os.replace(tmp, out)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
