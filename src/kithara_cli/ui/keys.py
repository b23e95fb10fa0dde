"""Single keypresses from a terminal (cbreak mode), restored on exit whatever happens.

One read may hold several keys: a held arrow's key repeat over ssh or tmux, or keys typed
while the loop was busy, arrive together (``\x1b[C\x1b[C\x1b[C``). Each is a key press, as
in mpv: the read is split into keys and they are handed out one per ``poll``.
"""

from __future__ import annotations

import collections
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


READ_SIZE = 1024
ESC = "\x1b"
PARTIAL_WAIT = 0.01  # the rest of an escape sequence cut by a read is this close behind
# Keys read and not yet handed out, shared by every reader: a queue's next item has its own,
# and "nnn" read at once skips three items, not one.
_PENDING: collections.deque[str] = collections.deque()


def _escape_length(data: str, i: int) -> int:
    """Length of the escape sequence at ``data[i]`` (an ESC), or 0 when ``data`` ends inside
    it: CSI (``ESC [`` parameters, final byte 0x40-0x7E), SS3 (``ESC O`` and one), or Alt+key."""
    if i + 1 >= len(data):
        return 0
    if data[i + 1] == "O":
        return 3 if i + 2 < len(data) else 0
    if data[i + 1] != "[":
        return 2
    for j in range(i + 2, len(data)):
        if "\x40" <= data[j] <= "\x7e":
            return j - i + 1
    return 0


def split_keys(data: str) -> tuple[list[str], str]:
    """Every key name in ``data`` (sequences no key is bound to are skipped whole), and an
    escape sequence cut short at its end, to be read on."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        if data[i] == ESC:
            n = _escape_length(data, i)
            if n == 0:
                return keys, data[i:]
        else:
            n = 1
        name = KEY_NAMES.get(data[i : i + n])
        if name is not None:
            keys.append(name)
        i += n
    return keys, ""


class KeyReader:
    """``with KeyReader() as keys: keys.poll(timeout)`` -> a key name or None."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream: TextIO = stream or sys.stdin
        self._fd: int | None = None
        self._saved: list | None = None
        self._keys = _PENDING
        self._rest = ""  # a sequence the last read cut short (``ESC [`` on): read on

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
        tty.setcbreak(fd, termios.TCSANOW)  # (not TCSAFLUSH: keys typed meanwhile are kept)
        return self

    def poll(self, timeout: float) -> str | None:
        assert self._fd is not None
        if self._keys:
            return self._keys.popleft()
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return None
        keys, rest = split_keys(self._rest + self._read())
        if rest and select.select([self._fd], [], [], PARTIAL_WAIT)[0]:
            more, rest = split_keys(rest + self._read())
            keys += more
        self._rest = rest if len(rest) > 1 else ""  # (Esc alone is no key)
        self._keys.extend(keys)
        return self._keys.popleft() if self._keys else None

    def _read(self) -> str:
        assert self._fd is not None
        return os.read(self._fd, READ_SIZE).decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None and self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
