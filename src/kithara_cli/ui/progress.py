"""Progress for ``kithara fetch``: a Rich bar on a TTY, periodic plain lines otherwise.

Rich loads only for the bar: plain lines and ``--quiet`` skip its ~30 ms import.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING

from kithara_cli.events import EventBus
from kithara_cli.events.types import Event, FetchProgress, Notice
from kithara_cli.ui.console import print_note, stderr_console, stderr_is_terminal
from kithara_cli.ui.format import fmt_mb, fmt_speed
from kithara_cli.ui.glyphs import UNICODE, current, fold
from kithara_cli.ui.sanitize import sanitize, sanitize_line

if TYPE_CHECKING:
    from rich.console import OverflowMethod
    from rich.progress import Progress, TaskID


class FetchProgressView:
    """Subscribes to FetchProgress/Notice; draws at most ``hz`` times a second."""

    def __init__(self, bus: EventBus, label: str, *, quiet: bool = False, verbose: bool = False):
        self.bus = bus
        self.label = sanitize(label, 80)  # the output's name: shown as text, never as markup
        self.quiet = quiet
        self.verbose = verbose
        self._latest: FetchProgress | None = None
        self._notices: list[str] = []
        self._lock = threading.Lock()
        self._unsubscribe = bus.subscribe(self._on_event)
        self._tty = stderr_is_terminal()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self._last_line = self._started  # first plain line after 2 s: quick runs stay quiet

    def _on_event(self, event: Event) -> None:
        if isinstance(event, FetchProgress):
            self._latest = event
        elif isinstance(event, Notice):
            with self._lock:
                self._notices.append(event.message)

    def __enter__(self) -> FetchProgressView:
        if self.quiet:
            return self
        if self._tty:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )
            from rich.table import Column

            console = stderr_console()  # first: it chooses the glyphs
            # What the console's encoding cannot show would be an escape, six cells for one:
            # the line would wrap and the redraw leave rows behind. So the label is folded, and
            # a squeezed column is cut, not ended with Rich's "…", where it is not UTF-8.
            narrow = current() is not UNICODE
            overflow: OverflowMethod = "crop" if narrow else "ellipsis"

            def col() -> Column:
                return Column(overflow=overflow, no_wrap=True)

            self._progress = Progress(
                TextColumn("{task.description}", markup=False, table_column=col()),
                # The bar gives way first: the numbers (size, speed, time left) are what a
                # narrow terminal (COLUMNS=60) must still show, each on the one line.
                BarColumn(bar_width=_bar_width(console.width, self.label), table_column=col()),
                DownloadColumn(table_column=col()),
                TransferSpeedColumn(table_column=col()),
                TimeRemainingColumn(table_column=col()),
                TextColumn("{task.fields[segments]}", markup=False, table_column=col()),
                console=console,
                transient=False,
                refresh_per_second=10,
            )
            self._progress.start()
            self._task = self._progress.add_task(fold(self.label), total=None, segments="")
        self._thread = threading.Thread(target=self._loop, name="kithara-progress", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            if self._latest is not None and self._latest.bytes_done:
                self._draw(final=False)

    def _draw(self, final: bool) -> None:
        with self._lock:
            notices, self._notices = self._notices, []
        for message in notices:
            if self._progress is not None:
                line = f"kithara: {sanitize_line(message)}"
                self._progress.console.print(line, markup=False, highlight=False, emoji=False)
            else:
                print_note(message)  # sanitises
        ev = self._latest
        if ev is None:
            return
        segments = ""
        if ev.segments_total:
            segments = f"{ev.segments_done}/{ev.segments_total} segments"
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=ev.bytes_done, total=ev.bytes_total, segments=segments
            )
            return
        now = time.monotonic()
        if final or now - self._last_line >= 2.0:
            self._last_line = now
            elapsed = max(now - self._started, 1e-6)
            total = f"/{fmt_mb(ev.bytes_total)}" if ev.bytes_total else ""
            pct = f" {100 * ev.bytes_done / ev.bytes_total:5.1f}%" if ev.bytes_total else ""
            extra = f" {segments}" if segments else ""
            sys.stderr.write(
                f"kithara: {self.label}:{pct} {fmt_mb(ev.bytes_done)}{total}"
                f" {fmt_speed(ev.bytes_done / elapsed)}{extra}\n"
            )
            sys.stderr.flush()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self._unsubscribe()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        if not self.quiet and exc_type is None:  # on failure the error line says it all
            self._draw(final=True)
        if self._progress is not None:
            self._progress.stop()


# What the columns beside the bar take: "24.0/240.0 MB 12.3 MB/s 0:01:23" and the gaps.
_NUMBERS_WIDTH = 34


def _bar_width(columns: int, label: str) -> int:
    """Rich's 40 cells where they fit (80 columns and a short name), down to 5."""
    return max(5, min(40, columns - len(label) - _NUMBERS_WIDTH))
