"""A single-producer single-consumer ring of float32 PCM frames for the audio callback.

Frames are interleaved float32 held in a ``bytearray`` and moved with ``memoryview`` copies, so
the play path needs no numpy: importing it costs ~80 ms of time to first audio. Writers and
readers pass any C-contiguous buffer (a numpy ``(n, channels)`` float32 array, a PyAV plane, a
PortAudio buffer, a ``bytearray``).

Why this shape: the PortAudio callback must never block, allocate buffers, or wait on a lock,
so the consumer side is lock-free. Positions are monotonically increasing frame counters (plain
Python ints): the producer alone advances ``_w``, the consumer alone advances ``_r``. Under the
GIL each attribute store is atomic and program order is preserved, which is all an SPSC ring
needs. The producer waits on an ``Event`` with a short poll, because the real-time reader never
signals (signalling takes a lock). Another thread can ``wake()`` a blocked producer so it looks
at its ``abort`` predicate at once (the decoder's pending seek), not at the next poll.

``clear()`` (for seeks) is producer-side: it publishes a "drop up to" mark instead of touching
the reader's counter, and the reader skips to it on its next read. A ``_busy`` flag set by the
reader around its copy tells the producer not to reuse slots the reader may still be copying
(Dekker-style: the producer writes the mark, then reads the flag; the reader writes the flag,
then reads the mark).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # types only: the play path loads no numpy (see audio's contract)
    import numpy as np
    import numpy.typing as npt
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

    # Interleaved float32 frames: any buffer (bytes, a PyAV plane), or a numpy array, whose
    # stubs declare the buffer protocol only from Python 3.12.
    Frames = Buffer | npt.NDArray[np.float32]

# How long a blocked producer sleeps between looks at the reader's progress.
_POLL_SECONDS = 0.005
SAMPLE_BYTES = 4  # float32


def as_byte_view(data: Frames, channels: int) -> memoryview:
    """``data`` as a flat byte view of whole frames; ValueError for anything else.

    A 2-D buffer must be ``(n, channels)`` float32; a flat one must hold whole frames.
    """
    view = memoryview(data)  # type: ignore[arg-type]  # ndarray: see Frames
    if view.ndim > 1 or view.format not in ("B", "b", "c"):
        if view.ndim not in (1, 2) or view.format.lstrip("<=@") != "f":
            raise ValueError(f"expected float32 frames, got format {view.format!r}")
        if view.ndim == 2 and view.shape is not None and view.shape[1] != channels:
            raise ValueError(f"expected (n, {channels}) frames, got {view.shape}")
        if not view.c_contiguous:
            raise ValueError("frames must be C-contiguous")
        view = view.cast("B") if view.nbytes else memoryview(b"")
    if len(view) % (channels * SAMPLE_BYTES):
        raise ValueError("buffer does not hold whole frames")
    return view


class PcmRing:
    """Float32 interleaved frames, ``capacity_frames`` x ``channels``, preallocated."""

    def __init__(
        self, capacity_frames: int, channels: int, *, poll_seconds: float = _POLL_SECONDS
    ) -> None:
        """``poll_seconds``: how often a blocked producer looks at the reader's progress (the
        real-time reader never signals); tests raise it so only events wake a producer."""
        if capacity_frames <= 0 or channels <= 0:
            raise ValueError("capacity_frames and channels must be positive")
        self._poll = poll_seconds
        self.capacity: Final[int] = capacity_frames
        self.channels: Final[int] = channels
        self.frame_bytes: Final[int] = channels * SAMPLE_BYTES
        """Bytes per interleaved frame."""
        self._buf = memoryview(bytearray(capacity_frames * self.frame_bytes))
        self._w = 0  # frames ever written (producer)
        self._r = 0  # frames ever consumed or skipped (consumer)
        self._drop = 0  # consumer must skip to at least this write index (producer)
        self._base = 0  # timeline frame of write index ``_drop`` (producer)
        self._played = 0  # frames ever copied out (consumer)
        # Frames a consumer may ever copy out (``--length``), then the ring reads as drained:
        # an unpaced consumer (a WAV file) would be seconds past it before anyone looked.
        self.play_limit: int | None = None
        self.first_read_at: float | None = None  # monotonic time frames first went out
        self._busy = False  # consumer is between its snapshot and publishing ``_r``
        self._eos = False  # producer wrote the last frame of the stream
        self._closed = False
        self._generation = 0  # bumped on every clear()
        self._space = threading.Event()  # non-real-time readers, clear and close set it
        self._data = threading.Event()  # producer sets it after every write

    # --- properties --------------------------------------------------------------------------

    @property
    def frames_available(self) -> int:
        """Frames written and not yet read (after any pending clear)."""
        return max(0, self._w - max(self._r, self._drop))

    def seconds(self, rate: int) -> float:
        """Buffered audio in seconds at ``rate``."""
        return self.frames_available / rate

    @property
    def frames_written(self) -> int:
        """Frames ever written (monotonic, across clears)."""
        return self._w

    @property
    def frames_played(self) -> int:
        """Frames ever copied out to a consumer (monotonic, across clears)."""
        return self._played

    @property
    def position_frames(self) -> int:
        """Timeline position of the next frame to be read.

        The producer tells the timeline position of what it writes next through
        ``clear(base_frame=...)`` (0 at start); every frame read since advances it by one. So
        after a seek to 17 s at 44100 Hz, ``clear(base_frame=17 * 44100)`` makes this exact.
        """
        return self._base + max(0, self._r - self._drop)

    @property
    def generation(self) -> int:
        """Bumped by every ``clear()``: a reader uses it to tell a seek from an underrun."""
        return self._generation

    @property
    def eos(self) -> bool:
        """The producer wrote the stream's last frame (reset by ``clear()``)."""
        return self._eos

    @property
    def drained(self) -> bool:
        """End of stream was marked and every frame has been read, or ``play_limit`` was."""
        limit = self.play_limit
        if limit is not None and self._played >= limit:
            return True
        return self._eos and self.frames_available == 0

    @property
    def closed(self) -> bool:
        return self._closed

    # --- producer ----------------------------------------------------------------------------

    def write(
        self,
        frames: Frames,
        timeout: float | None = None,
        *,
        abort: Callable[[], bool] | None = None,
    ) -> int:
        """Copy ``frames`` in, blocking while full; return frames written.

        ``frames``: a ``(n, channels)`` float32 array or a flat buffer of interleaved float32.
        Returns fewer than all frames only when ``timeout`` passed, the ring was closed or
        ``abort()`` turned true while it waited for space (looked at before every wait, and at
        once on ``wake()``). ``timeout=None`` waits as long as it takes; ``0`` writes what fits
        now.
        """
        fb = self.frame_bytes
        src = as_byte_view(frames, self.channels)
        total = len(src) // fb
        deadline = None if timeout is None else time.monotonic() + timeout
        done = 0
        cap = self.capacity
        buf = self._buf
        while done < total and not self._closed:
            self._space.clear()
            space = cap - (self._w - self._reader_floor())
            if space <= 0:
                # After the clear: a wake() from here on cuts the wait short, and one before it
                # came after its command was queued, which abort() sees now.
                if abort is not None and abort():
                    break
                wait = self._poll
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    wait = min(wait, left)
                self._space.wait(wait)
                continue
            k = min(space, total - done)
            w = self._w
            i = w % cap
            first = min(k, cap - i)
            buf[i * fb : (i + first) * fb] = src[done * fb : (done + first) * fb]
            if k > first:
                buf[: (k - first) * fb] = src[(done + first) * fb : (done + k) * fb]
            self._w = w + k  # publish after the copy
            done += k
            self._data.set()
        return done

    def wake(self) -> None:
        """Wake a producer blocked on a full ring so it looks at its ``abort`` now (any thread;
        the caller makes ``abort()`` true first)."""
        self._space.set()

    def _reader_floor(self) -> int:
        """Oldest write index whose slot may still be read: frees space lazily after a clear."""
        drop = self._drop  # read before _busy: pairs with the reader's busy-then-drop order
        r = self._r
        if self._busy:
            return r
        return max(r, drop)

    def clear(self, base_frame: int = 0) -> None:
        """Drop everything buffered (seek); the next frame written plays at ``base_frame``.

        Producer side only. Safe while the consumer reads: it skips to the mark on its next
        read; a read already in progress finishes on the old frames.
        """
        self._eos = False
        self._drop = self._w
        self._base = base_frame
        self._generation += 1
        self._space.set()

    def mark_eos(self, value: bool = True) -> None:
        """The last frame has been written; readers may treat a short read as the end.

        ``mark_eos(False)`` takes it back (a reopened source goes on writing).
        """
        self._eos = value
        self._data.set()

    def close(self) -> None:
        """Wake and refuse writers (shutdown). Readers may still drain what is left."""
        self._closed = True
        self._space.set()
        self._data.set()

    # --- consumer ----------------------------------------------------------------------------

    def read_into(self, out: Frames) -> int:
        """Copy up to as many frames as ``out`` holds into it; return how many.

        ``out``: a writable ``(n, channels)`` float32 array or flat buffer. For the audio
        callback: never blocks, allocates no buffers, takes no lock and never logs. The caller
        fills the rest of ``out`` with silence.
        """
        self._busy = True
        fb = self.frame_bytes
        dst = (
            out
            if type(out) is memoryview and out.format == "B"
            else as_byte_view(out, self.channels)
        )
        drop = self._drop
        r = self._r
        if drop > r:
            r = drop
        avail = self._w - r
        n = len(dst) // fb
        if avail < n:
            n = avail if avail > 0 else 0
        limit = self.play_limit
        if limit is not None and self._played + n > limit:
            n = limit - self._played if limit > self._played else 0
        if n:
            cap = self.capacity
            i = r % cap
            first = cap - i
            if n <= first:
                self._copy_out(dst, 0, i * fb, n * fb)
            else:
                self._copy_out(dst, 0, i * fb, first * fb)
                self._copy_out(dst, first * fb, 0, (n - first) * fb)
            if not self._played:
                self.first_read_at = time.monotonic()
            self._played += n
        self._r = r + n
        self._busy = False
        return n

    def _copy_out(self, dst: memoryview, at: int, offset: int, size: int) -> None:
        dst[at : at + size] = self._buf[offset : offset + size]

    def skip_pending(self) -> None:
        """Apply a pending clear without reading (a paused consumer calls this each block)."""
        drop = self._drop
        if drop > self._r:
            self._r = drop

    def notify_space(self) -> None:
        """Non-real-time readers call this after reading so a waiting producer wakes at once."""
        self._space.set()

    def wait_readable(self, timeout: float | None = None) -> bool:
        """Block until frames are available, end of stream, or close (non-real-time readers)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._data.clear()
            if self.frames_available > 0 or self._eos or self._closed:
                return True
            wait = 0.05
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                wait = min(wait, left)
            self._data.wait(wait)
