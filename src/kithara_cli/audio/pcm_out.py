"""The decoder's output stage: decoded frames -> float32 at the output rate -> the ring.

Positions are timeline frames (see ``decoder``): ``drop_until`` cuts what comes before a seek
target, ``end_limit`` cuts a container's end padding, ``written_end`` is just past the last
frame in the ring. A write waits on a full ring until there is space, and gives way to the
decoder's commands (``Interrupted``: the command queue wakes the ring, so a seek is taken at
once, not after a polling slice) and to a closed ring (``Stopped``).
"""

from __future__ import annotations

from collections.abc import Callable

from kithara_cli.audio.container import av, layout_for
from kithara_cli.audio.ring import SAMPLE_BYTES, PcmRing


class Interrupted(Exception):
    """A command (seek, reopen, stop) arrived while the thread was busy: unwind to the loop."""


class Stopped(Exception):
    """The ring was closed, or the decoder was told to stop."""


class PcmOut:
    """Resamples and writes one decoder's frames into ``ring`` on the timeline."""

    def __init__(
        self,
        ring: PcmRing,
        rate: int,
        channels: int,
        *,
        interrupted: Callable[[], bool],  # a command is pending (the ring is woken for it)
        on_written: Callable[[], None],
    ) -> None:
        self.ring = ring
        self.rate = rate
        self.channels = channels
        self._layout = layout_for(channels)
        self._interrupted = interrupted
        self._on_written = on_written
        self._resampler: av.AudioResampler | None = None
        self._input_shape: tuple[str, str, int] | None = None  # what the resampler was fed
        self.need_t0 = True
        self.out_pos = 0  # timeline frame of the next resampled frame
        self.drop_until = 0  # timeline frame before which output is dropped
        self.written_end = 0  # timeline frame just past the last frame in the ring
        self.end_limit: int | None = None
        self._inflight: tuple[int, int] | None = None  # (timeline frame, ring count) mid-write
        self.writing = False  # blocked on a full ring: waiting for the output, not input
        # The first frames from timeline 0 as written, kept for the cache (``keep_head``).
        self._head: bytearray | None = None
        self._head_bytes = 0
        self.head_done = False  # the head is whole: its size, or the whole stream

    @property
    def position_decoded(self) -> float:
        """Timeline seconds just past the last frame written to the ring."""
        inflight = self._inflight
        if inflight is not None:
            base, written_before = inflight
            return (base + self.ring.frames_written - written_before) / self.rate
        return self.written_end / self.rate

    def reset(self, end_limit: int | None) -> None:
        """A new stream position: a fresh resampler, the next frame sets the timeline."""
        self._resampler = self._new_resampler()
        self._input_shape = None
        self.need_t0 = True
        self.end_limit = end_limit

    def close(self) -> None:
        self._resampler = None

    def start_at(self, t0: float | None) -> None:
        """The first frame after a reset starts at timeline second ``t0`` (None: unknown)."""
        self.need_t0 = False
        self.out_pos = round(t0 * self.rate) if t0 is not None else self.drop_until
        if self.out_pos > self.drop_until:
            # The demuxer landed after the target: re-base the (still empty) timeline.
            if self.written_end == self.drop_until:
                self.ring.clear(base_frame=self.out_pos)
                self.written_end = self.out_pos
            self.drop_until = self.out_pos

    def emit(self, frame: av.AudioFrame) -> None:
        frame.pts = None  # the resampler needs no timestamps; we count samples ourselves
        assert self._resampler is not None
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if shape != self._input_shape:
            if self._input_shape is not None:
                # The input changed mid-stream (an HLS discontinuity to another sample rate or
                # layout): PyAV's resampler is fixed to the first frame's; drain it, start anew.
                self.drain()
                self._resampler = self._new_resampler()
            self._input_shape = shape
        for out in self._resampler.resample(frame):
            self._push(self._pcm_bytes(out))

    def drain(self) -> None:
        """Push the samples the resampler still holds (it buffers a few for filtering)."""
        if self._resampler is not None:
            for out in self._resampler.resample(None):
                self._push(self._pcm_bytes(out))

    def _new_resampler(self) -> av.AudioResampler:
        return av.AudioResampler(format="flt", layout=self._layout, rate=self.rate)

    def _pcm_bytes(self, frame: av.AudioFrame) -> memoryview:
        """A resampled packed-float frame as interleaved bytes (the plane is padded: cut it).

        Bytes, not ``to_ndarray``: the play path never loads numpy.
        """
        return memoryview(frame.planes[0])[: frame.samples * self.channels * SAMPLE_BYTES]

    def _push(self, pcm: memoryview) -> None:
        fb = self.channels * SAMPLE_BYTES
        frames = len(pcm) // fb
        start = self.out_pos
        end = start + frames
        self.out_pos = end
        lo = max(0, self.drop_until - start)
        hi = frames
        if self.end_limit is not None and end > self.end_limit:
            hi = max(0, self.end_limit - start)
        if lo >= hi:
            return
        self._write(pcm[lo * fb : hi * fb], start + lo)

    def keep_head(self, frames: int) -> None:
        """Keep a copy of the first ``frames`` written from timeline frame 0."""
        self._head = bytearray()
        self._head_bytes = frames * self.channels * SAMPLE_BYTES

    def drop_head(self) -> None:
        """A seek or reopen: what follows is not the start as played from 0."""
        if not self.head_done:
            self._head = None

    def end_head(self) -> None:
        """The stream ended: a shorter one is its own head."""
        if self._head is not None and self._head:
            self.head_done = True

    @property
    def head(self) -> bytes | None:
        """The kept head once whole (read by another thread only then)."""
        return bytes(self._head) if self.head_done and self._head is not None else None

    def _keep(self, pcm: memoryview, timeline_start: int) -> None:
        head = self._head
        assert head is not None
        if timeline_start * self.channels * SAMPLE_BYTES != len(head):
            self._head = None  # not contiguous from frame 0: no head
            return
        head += pcm[: self._head_bytes - len(head)]
        self.head_done = len(head) >= self._head_bytes

    def _write(self, pcm: memoryview, timeline_start: int) -> None:
        fb = self.channels * SAMPLE_BYTES
        if self._head is not None and not self.head_done:
            self._keep(pcm, timeline_start)
        done = 0
        total = len(pcm) // fb
        while done < total:
            if self._interrupted():
                raise Interrupted
            self._inflight = (timeline_start + done, self.ring.frames_written)
            self.writing = True
            try:
                n = self.ring.write(pcm[done * fb :], abort=self._interrupted)
            finally:
                self.writing = False
            done += n
            self.written_end = timeline_start + done
            self._inflight = None
            if n:
                self._on_written()
            if self.ring.closed:
                raise Stopped
