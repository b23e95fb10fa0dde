"""Requests to the decoder thread (seek, reopen, stop): queued by any thread, merged when taken.

A request is a typed message (``SeekTo``, ``Reopen``), never a string-tagged tuple: the decoder
matches on the message class, and a field added to one is checked where it is read.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kithara_cli.audio.decoder_source import Source


@dataclass(frozen=True)
class SeekTo:
    """Seek the current source to timeline second ``seconds`` (the ring is cleared)."""

    seconds: float


@dataclass(frozen=True)
class Reopen:
    """Switch to ``source`` at ``start_at``, its first sample at timeline second ``origin``
    (``Decoder.reopen``); ``flush``: a seek in the new source, the ring cleared."""

    source: Source
    start_at: float
    hint: str | None
    flush: bool
    origin: float


Command = SeekTo | Reopen


class CommandQueue:
    """Thread-safe; the decoder thread takes the merged effect of everything pending.

    Merging: the last seek wins; a seek after a reopen turns it into a flushing reopen at the
    seek target.
    """

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        """``wake``: called after every command, stop and nudge, once ``any()`` says so (the
        decoder's ring wakes a write blocked on a full ring: a seek need not wait for space)."""
        self._on_wake = wake
        self._pending: collections.deque[Command] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.stopped = False
        """``stop()`` was asked: the decoder thread ends at its next look."""

    def put(self, cmd: Command) -> None:
        with self._lock:
            self._pending.append(cmd)
        self._signal()

    def stop(self) -> None:
        self.stopped = True
        self._signal()

    def nudge(self) -> None:
        """Wake a ``wait`` without a command (the hang watchdog failed the decoder)."""
        self._signal()

    def _signal(self) -> None:
        self._wake.set()
        if self._on_wake is not None:
            self._on_wake()

    def any(self) -> bool:
        """A stop or a command is pending: a busy decoder thread should unwind to its loop."""
        return self.stopped or bool(self._pending)

    def wait(self, timeout: float) -> None:
        self._wake.wait(timeout)
        self._wake.clear()

    def take(self) -> Command | None:
        """The merged effect of everything pending (None: nothing)."""
        with self._lock:
            cmds = list(self._pending)
            self._pending.clear()
        merged: Command | None = None
        for cmd in cmds:
            if isinstance(cmd, SeekTo) and isinstance(merged, Reopen):
                merged = dataclasses.replace(merged, start_at=cmd.seconds, flush=True)
            else:
                merged = cmd
        return merged
