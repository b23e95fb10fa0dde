"""Demuxer seeks for the decoder: landing a little early, and fixing a fast-seeked MP3's pts.

The decoder drops everything before its target by timestamp, so a seek only has to land at or
before it: ``demuxer_seek`` lands ``SEEK_PREROLL_SECONDS`` early (lossy decoders settle by the
target) and tries earlier still when a demuxer refuses a target. ``Mp3SeekFix`` re-derives a
fast-seeked CBR MP3 packet's timestamp from its byte offset (see ``mp3_frames``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from kithara_cli.audio.container import av, describe
from kithara_cli.audio.mp3_frames import HEAD_BYTES, Mp3Cbr, cbr_layout, id3v2_size
from kithara_cli.audio.reader import CountingReader
from kithara_cli.errors import DecoderError

# Seeks land this much early so lossy decoders (MP3 bit reservoir, AAC/Opus overlap) have
# settled by the target; the extra audio is decoded and dropped.
SEEK_PREROLL_SECONDS = 0.2


def demuxer_seek(
    container: Any,
    stream: Any,
    relative: float,
    *,
    start_pts: int,
    time_base: float,
    after_error: Callable[[], None],
) -> None:
    """Seek ``container`` to a little before ``relative`` seconds into its stream.

    Some demuxers refuse certain targets (FFmpeg's FLAC near the last frame): land earlier
    instead. ``after_error`` runs after each refusal (the decoder raises a kept read failure
    there). Raises DecoderError when no target is accepted.
    """
    first = max(0.0, relative - SEEK_PREROLL_SECONDS)
    tries = sorted({first, max(0.0, first - 1.0), max(0.0, first - 5.0), 0.0}, reverse=True)
    error: Exception | None = None
    for at in tries:
        ts = start_pts + int(at / time_base)
        try:
            container.seek(ts, stream=stream, backward=True)
            return
        except av.error.FFmpegError as exc:
            after_error()
            error = exc
    assert error is not None
    raise DecoderError(f"cannot seek to {relative:.3f} s: {describe(error)}") from error


class Mp3SeekFix:
    """The timestamp correction for the first packet after a fast seek in a CBR MP3."""

    def __init__(self) -> None:
        self._layout: Mp3Cbr | Literal[False] | None = False  # False: not looked at yet
        self.armed = False
        """A fast seek in an MP3 happened: the next packet's timestamp is checked."""

    def shift(self, reader: CountingReader, packet: Any, time_base: float) -> int:
        """Ticks to add to the pts FFmpeg's fast seek gave ``packet``; 0 when unsure."""
        self.armed = False
        if self._layout is False:
            start = id3v2_size(reader.read_at(0, 10))
            self._layout = cbr_layout(reader.read_at(start, HEAD_BYTES), start)
        layout = self._layout
        if layout is None or packet.pts is None or packet.pos is None or packet.pos < 0:
            return 0
        shift = round(layout.frame_seconds(packet.pos) / time_base) - packet.pts
        frame_ticks = layout.samples_per_frame / layout.sample_rate / time_base
        # FFmpeg is off by at most a frame; more means the stream is not the CBR we think.
        return shift if abs(shift) <= 1.5 * frame_ticks else 0
