"""Requests to the decoder thread (seek, reopen, stop): queued by any thread, merged when taken."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any


class CommandQueue:
    """Thread-safe; the decoder thread takes the merged effect of everything pending.

    Merging: the last seek wins; a seek after a reopen turns it into a flushing reopen at the
    seek target (the reopen's tuple is ``("reopen", source, start_at, hint, flush, origin)``).
    """

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        """``wake``: called after every command, stop and nudge, once ``any()`` says so (the
        decoder's ring wakes a write blocked on a full ring: a seek need not wait for space)."""
        self._on_wake = wake
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.stopped = False
        """``stop()`` was asked: the decoder thread ends at its next look."""

    def put(self, cmd: tuple[Any, ...]) -> None:
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

    def take(self) -> tuple[Any, ...] | None:
        """The merged effect of everything pending (None: nothing)."""
        with self._lock:
            cmds = list(self._pending)
            self._pending.clear()
        merged: tuple[Any, ...] | None = None
        for cmd in cmds:
            if cmd[0] == "seek" and merged is not None and merged[0] == "reopen":
                merged = ("reopen", merged[1], cmd[1], merged[3], True, merged[5])
            else:
                merged = cmd
        return merged
