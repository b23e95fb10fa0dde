"""What a ``Decoder`` reports (rates, positions, bytes read at first audio), how it publishes
and fails, and the numbers its hang watchdog watches: the decoder's surface apart from the
decoding itself. A base class of ``decoder.Decoder``, whose attributes are declared below."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

from kithara_cli.audio.commands import CommandQueue
from kithara_cli.audio.container import SourceInfo
from kithara_cli.audio.guard import ReadGuard
from kithara_cli.audio.mp3_frames import TAG_HEAD_BYTES, tagged_seconds
from kithara_cli.audio.pcm_out import PcmOut, Stopped
from kithara_cli.audio.reader import CountingReader
from kithara_cli.audio.ring import PcmRing
from kithara_cli.errors import DecoderError, KitharaError
from kithara_cli.events.types import DecoderError as DecoderErrorEvent
from kithara_cli.events.types import Event, Notice

# A source closed under a read with no command yet: how long to wait for the reopen or stop
# that follows (a seek retires the old HLS run just before it sends the reopen).
_CLOSED_GRACE = 1.0
# The frames FFmpeg still holds when a read stalls (its FLAC parser ~10 blocks of 4096, an MP3
# parser's last frame): a read waiting this close to the declared length waits for no audio
# (``ReadGuard.complete``); the flush at the end decodes them.
_END_SLACK = 1.0


class DecoderStatus:
    """The decoder's reporting and bounds; the decoding thread is ``Decoder``'s (as are its
    read-only ``rate`` and ``channels``)."""

    _ring: PcmRing
    _commands: CommandQueue
    _out: PcmOut
    _on_event: Callable[[Event], None] | None
    _error_lock: threading.Lock
    _thread: threading.Thread
    _clock: Callable[[], float]
    _guard: ReadGuard
    eof: threading.Event
    error: KitharaError | None
    seeks_done: int
    _reader: CountingReader | None
    _frames_decoded: int
    _bytes_at_first_audio: int | None
    _max_offset_at_first_audio: int | None
    duration: float | None
    info: SourceInfo | None
    _trust_duration: bool
    _origin: float

    @property
    def head(self) -> bytes | None:
        """The first frames decoded from 0 (``keep_head`` of them, or the whole of a shorter
        stream) as written to the ring, once whole and with no seek before; else None."""
        return self._out.head

    @property
    def position_decoded(self) -> float:
        """Timeline seconds just past the last frame written to the ring."""
        return self._out.position_decoded

    @property
    def bytes_read(self) -> int:
        """Bytes read from the current source so far (probing, side reads and decoding)."""
        return self._reader.bytes_read if self._reader else 0

    @property
    def bytes_at_first_audio(self) -> int | None:
        """Bytes read from the current source when its first frames reached the ring."""
        return self._bytes_at_first_audio

    @property
    def max_offset_at_first_audio(self) -> int | None:
        """Furthest byte of the current source read when its first frames reached the ring."""
        return self._max_offset_at_first_audio

    # --- plumbing ----------------------------------------------------------------------------

    def _publish(self, event: Event) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a subscriber's bug must not kill decoding
            pass

    def _fail(self, error: KitharaError) -> None:
        with self._error_lock:
            if self.error is not None:
                return  # the watchdog's report came first
            self.error = error
        self._publish(DecoderErrorEvent(message=str(error)))

    # --- bounds and the hang watchdog --------------------------------------------------------

    def _after_close(self) -> None:
        """The source closed under a read: go on with the command that follows (a seek's
        reopen), end on a stop, fail if neither comes."""
        deadline = self._clock() + _CLOSED_GRACE
        while not self._commands.any():
            if self._clock() >= deadline:
                raise DecoderError("the stream was closed while it was being read")
            self._commands.wait(0.05)
        if self._commands.stopped:
            raise Stopped

    def _progress(self) -> tuple[int, ...]:
        reader = self._reader
        return (
            reader.bytes_read if reader is not None else 0,
            id(reader),
            self._frames_decoded,
            self._ring.frames_written,
            self.seeks_done,
        )

    def _declared_end_reached(self) -> bool:
        """``ReadGuard.complete``: the audio decoded reaches the length the stream declares
        (an MP3's Xing/Info frame count, FLAC's STREAMINFO, an MP4's header: never a length
        FFmpeg estimated from the announced size); a warning says what the server did."""
        reader, info = self._reader, self.info
        if reader is None or info is None:
            return False
        declared = self.duration if self._trust_duration else None
        if info.container.split(",")[0] == "mp3":
            declared = tagged_seconds(reader.read_aside(0, TAG_HEAD_BYTES))
        if declared is None:
            return False
        if self._out.written_end / self._out.rate - self._origin < declared - _END_SLACK:
            return False
        self.duration, self.info = declared, dataclasses.replace(info, duration=declared)
        self._publish(
            Notice(
                level="warning",
                message=f"the server stopped sending at byte {reader.tell()}, short of the "
                f"length it announced: ending at the audio's declared end ({declared:.1f} s)",
            )
        )
        return True

    def _network_stalled(self) -> float:
        """Seconds the current reader stalled on bytes a running request was bringing: the
        network's to end (its timeout, retries, typed error), not the watchdog's."""
        reader = self._reader
        return reader.stall_waited if reader is not None else 0.0

    def _waiting_for_input(self) -> bool:
        return (
            self._thread.is_alive()
            and not self._commands.stopped
            and not self._out.writing
            and not self.eof.is_set()
            and self.error is None
        )

    def _hung(self, log: Path | None) -> None:
        error = self._guard.stalled(log)
        self._fail(error)
        self._commands.nudge()
