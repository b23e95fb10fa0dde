"""``kithara play --no-ui`` (or no TTY): the dashboard's events log as plain stderr lines.

The same notable events the dashboard lists (ABR decisions, LoadSlow, retries, seeks,
rebuffers, failures), worded the same way, read off the bus on this class's own thread.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING

from kithara_cli.events import EventBus, EventQueue
from kithara_cli.ui.sanitize import sanitize_line

if TYPE_CHECKING:
    from kithara_cli.ui.dashboard_state import DashboardState, LogEntry

# The first lines wait this long: the dashboard's state module (~7 ms of imports) then loads
# after start-up, not during time to first audio. Later lines come every ``interval``.
FIRST_FLUSH_DELAY = 0.75


class PlainLog:
    def __init__(
        self, bus: EventBus, *, interval: float = 0.2, queue: EventQueue | None = None
    ) -> None:
        """``queue``: one subscribed earlier, so the log starts from its first event."""
        self._queue = queue if queue is not None else bus.queue(maxlen=50_000)
        self._state: DashboardState | None = None
        self._interval = interval
        self._last: LogEntry | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kithara-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = FIRST_FLUSH_DELAY
        while not self._stop.wait(delay):
            self._flush()
            delay = self._interval
        self._flush()

    def _flush(self) -> None:
        if self._state is None:
            from kithara_cli.ui.dashboard_state import DashboardState

            self._state = DashboardState()
        for event in self._queue.drain():
            self._state.apply(event)
        entries = list(self._state.log)
        start = 0
        if self._last is not None:
            for i in range(len(entries) - 1, -1, -1):
                if entries[i] is self._last:
                    start = i + 1
                    break
        try:
            for entry in entries[start:]:
                if entry.level == "error":
                    continue  # a failure that ends playback is the command's own last line
                stamp = time.strftime("%H:%M:%S")
                text = sanitize_line(entry.text)  # sanitised on arrival; this only guards
                sys.stderr.write(f"kithara: {stamp} {entry.kind:<9} {text}\n")
            if entries[start:]:
                sys.stderr.flush()
        except OSError:  # stderr piped into `head` that has exited: nobody reads the log
            from kithara_cli.ui.console import stderr_gone

            stderr_gone()
            self._stop.set()
        if entries[start:]:
            self._last = entries[-1]

    def close(self) -> None:
        self._queue.unsubscribe()
        self._stop.set()
        self._thread.join(timeout=2)
