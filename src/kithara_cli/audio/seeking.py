"""Demuxer seeks for the decoder: landing a little early, and fixing a fast-seeked MP3's pts.

The decoder drops everything before its target by timestamp, so a seek only has to land at or
before it: ``demuxer_seek`` lands ``SEEK_PREROLL_SECONDS`` early (lossy decoders settle by the
target) and tries earlier still when a demuxer refuses a target. ``Mp3SeekFix`` re-derives a
fast-seeked CBR MP3 packet's timestamp from its byte offset (see ``mp3_frames``).
``before_preroll`` lets the decoder skip, undecoded, the packets a run or a seek starts with
that end further than that before the target (an HLS run starts at its segment's start).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from kithara_cli.audio.container import av, describe
from kithara_cli.audio.mp3_frames import HEAD_BYTES, Mp3Cbr, cbr_layout, id3v2_size
from kithara_cli.audio.reader import CountingReader
from kithara_cli.errors import DecoderError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet
    from av.stream import Stream

# Seeks land this much early so lossy decoders (MP3 bit reservoir, AAC/Opus overlap) have
# settled by the target; the extra audio is decoded and dropped.
SEEK_PREROLL_SECONDS = 0.2


def demuxer_seek(
    container: InputContainer,
    stream: Stream,
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


def before_preroll(packet: Packet, seconds_at: Callable[[int], float], target: float) -> bool:
    """``packet`` ends ``SEEK_PREROLL_SECONDS`` or more before timeline second ``target``.

    Such a packet's audio is dropped anyway, and a decoder that starts after it has settled
    by the target, so it need not be decoded: a seek in an HLS run decodes its segment from
    the start (0-6 s before the target), which cost ~0.7 ms a packet. ``seconds_at``: a pts
    on the timeline. A packet without a timestamp is never skipped; one without a duration
    (FFmpeg's MPEG-TS demuxer gives the first packet none) is judged by its start against
    twice the preroll (audio packets are shorter than the preroll).
    """
    pts, duration = packet.pts, packet.duration
    if pts is None:
        return False
    if not duration:
        return seconds_at(pts) < target - 2 * SEEK_PREROLL_SECONDS
    return seconds_at(pts + duration) < target - SEEK_PREROLL_SECONDS


class Mp3SeekFix:
    """The timestamp correction for the first packet after a fast seek in a CBR MP3."""

    def __init__(self) -> None:
        self._layout: Mp3Cbr | Literal[False] | None = False  # False: not looked at yet
        self.armed = False
        """A fast seek in an MP3 happened: the next packet's timestamp is checked."""

    def shift(self, reader: CountingReader, packet: Packet, time_base: float) -> int:
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
