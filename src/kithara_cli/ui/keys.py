"""Single keypresses from a terminal (cbreak mode), restored on exit whatever happens."""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from typing import TextIO

KEY_NAMES = {
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1b[C": "right",
    "\x1b[D": "left",
    "\x1bOA": "up",
    "\x1bOB": "down",
    "\x1bOC": "right",
    "\x1bOD": "left",
    "\x1b[5~": "chapter-prev",  # PgUp, PgDn: mpv's chapter keys (and its ! and @)
    "\x1b[6~": "chapter-next",
    "!": "chapter-prev",
    "@": "chapter-next",
    " ": "space",
    "q": "quit",
    "n": "next",
    "p": "prev",
    "Q": "quit",
    "\x03": "quit",  # Ctrl-C arrives as a byte in cbreak mode only if ISIG is off; harmless
}


class KeyReader:
    """``with KeyReader() as keys: keys.poll(timeout)`` -> a key name or None."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream: TextIO = stream or sys.stdin
        self._fd: int | None = None
        self._saved: list | None = None

    @staticmethod
    def available() -> bool:
        """stdin is a terminal to read keys from: not a pipe, /dev/null, or closed (``<&-``:
        then Python's ``sys.stdin`` is None)."""
        stdin = sys.stdin
        try:
            return stdin is not None and stdin.isatty()
        except (ValueError, OSError):  # closed or detached
            return False

    def __enter__(self) -> KeyReader:
        fd = self._stream.fileno()
        self._fd = fd
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        return self

    def poll(self, timeout: float) -> str | None:
        assert self._fd is not None
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self._fd, 16).decode("utf-8", "replace")
        if data in KEY_NAMES:
            return KEY_NAMES[data]
        if data.startswith("\x1b"):
            return KEY_NAMES.get(data[:4]) or KEY_NAMES.get(data[:3])  # PgUp, or an arrow
        return KEY_NAMES.get(data[:1])

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None and self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
