"""Why a decoder's read ended early, and the say over when it should.

PyAV sees every early end as the end of the stream (nothing may raise through its read
callback), so the decoder asks ``raise_kept`` afterwards, in its own loop: a bound or the hang
watchdog gave up (``abort``), the source failed (its typed error), the decoder was stopped, or
the source was closed under the read (``SourceClosed``: a stop or a seek's reopen follows).
``open_audio`` opens a reader's container under those rules, so that the one-line error a
user sees is the real cause, not FFmpeg's "end of file" after it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kithara_cli.audio.bounds import DecoderLimits, StartBounds
from kithara_cli.audio.container import (
    Opened,
    av,
    describe,
    has_usable_audio,
    inspect,
    open_container,
)
from kithara_cli.audio.decoder_input import DecoderInput
from kithara_cli.audio.pcm_out import Stopped
from kithara_cli.audio.reader import CountingReader, demuxer_for_hint
from kithara_cli.errors import DecoderError, KitharaError, UnsupportedError

# Seconds a read must stall (past its own grace) with the declared audio decoded before it is
# taken for the end: a slow server's pause near the end is not cut short.
END_STALL = 2.0


class SourceClosed(Exception):
    """The source was closed under a read: a stop, or a seek that retired it, follows."""


class ReadGuard:
    """Makes the readers of one decoder (one per opened source) and judges their early ends."""

    def __init__(
        self, limits: DecoderLimits, clock: Callable[[], float], stopping: Callable[[], bool]
    ) -> None:
        self.limits = limits
        self.bounds = StartBounds(limits, clock)
        self._stopping = stopping
        self.reader: CountingReader | None = None
        self.abort: KitharaError | None = None
        """A bound or the hang watchdog ended the decoder: every read is over."""
        self.complete: Callable[[], bool] | None = None
        """Set by the decoder: the audio decoded reaches the length its container declares."""
        self.ended_complete = False
        """A read stalled past the declared end: ended there as the real end of the stream."""
        self._stall_seen = self._stall_from = 0.0

    def new_reader(self, raw: DecoderInput) -> CountingReader:
        """The reader for a newly opened source; its start bounds begin again."""
        self.bounds.restart()
        self.reader = CountingReader(raw, self.cancelled)
        self._stall_seen = self._stall_from = self.reader.stall_waited
        self.ended_complete = False
        return self.reader

    def cancelled(self) -> bool:
        """Asked by the reader before each read and while one waits: end it as EOF?"""
        if self.abort is not None or self._stopping():
            return True
        reader = self.reader
        if reader is None:
            error = self.bounds.check(0)
        else:
            error = self.bounds.check(reader.bytes_read, reader.stall_waited)
        if error is not None:
            self.abort = error
            return True
        return reader is not None and self._stalled_past_the_end(reader)

    def _stalled_past_the_end(self, reader: CountingReader) -> bool:
        """A read stalls (past its grace) with every second of the declared audio decoded: a
        server that announced more bytes than it sends, keeping the connection open. End it
        as the end (FFmpeg then flushes the last frames), not after the network's timeouts."""
        now = reader.stall_waited
        if now <= self._stall_seen:
            self._stall_from = now  # not stalling (between reads, or within a read's grace)
        self._stall_seen = now
        if now - self._stall_from >= END_STALL and not self.ended_complete and self.complete:
            self.ended_complete = self.complete()
        return self.ended_complete

    def raise_kept(self) -> None:
        """A read ended early (PyAV saw EOF): raise why; return if it was the real end."""
        if self.abort is not None:
            raise self.abort
        reader = self.reader
        if reader is None:
            return
        failure = reader.failure
        if isinstance(failure, KitharaError):
            raise failure
        if failure is not None:
            raise DecoderError(f"cannot read the stream: {describe(failure)}") from failure
        if self.ended_complete and not self._stopping():
            return  # the declared end was reached: the real end
        if self._stopping() or reader.cancelled:
            raise Stopped
        if reader.source_closed:
            raise SourceClosed

    def stalled(self, log: Path | None) -> DecoderError:
        """The hang watchdog fired (its thread dump is in ``log``): end every read."""
        where = f"thread stacks in {log}" if log is not None else "no crash log could be written"
        error = DecoderError(
            f"playback stalled: no progress for {self.limits.hang_seconds:g} s ({where})"
        )
        self.abort = error
        return error


def _unopened(exc: av.error.FFmpegError) -> str:
    """FFmpeg's reason in words, as ffplay prints it: not ``InvalidDataError: [Errno
    1094995529] ...: '<none>'`` (a class name, an error number and a file name PyAV's reader
    has none of)."""
    reason = exc.strerror or describe(exc)
    if isinstance(exc, av.error.InvalidDataError):
        return f"not audio in a format FFmpeg knows ({reason.lower()})"
    return reason


def open_audio(guard: ReadGuard, hint: str | None, options: dict[str, str]) -> tuple[Opened, bool]:
    """Open ``guard.reader`` (from ``new_reader``) as audio: the container's facts, and whether
    it is Ogg (whose length is read from its end later). A read that ended early raises why;
    PyAV's own failures become typed one-line errors."""
    reader = guard.reader
    assert reader is not None
    fmt = demuxer_for_hint(hint)
    is_ogg = fmt == "ogg" or (fmt is None and reader.read_at(0, 4) == b"OggS")
    reader.hide_size = is_ogg  # FFmpeg's Ogg demuxer would read the last 64 KB at open
    try:
        container = open_container(reader, fmt, options)
    except av.error.FFmpegError as exc:
        guard.raise_kept()
        raise UnsupportedError(f"cannot open the audio: {_unopened(exc)}") from exc
    except KitharaError:
        raise
    except Exception as exc:
        guard.raise_kept()
        raise DecoderError(f"cannot read the stream: {describe(exc)}") from exc
    finally:
        reader.hide_size = False
    try:
        guard.raise_kept()
        guard.bounds.opened()
        if not has_usable_audio(container):
            raise UnsupportedError(
                f"no playable audio track in the stream ({container.format.name})"
            )
        return inspect(container, sequential=reader.sequential), is_ogg
    except BaseException:
        container.close()
        raise
