"""The stderr console every command shares (Rich honours NO_COLOR and non-TTY by itself).

Rich is imported only when stderr is a terminal: plain lines need no Rich, and its import
costs tens of milliseconds of a command's start-up (time to first audio counts them).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from kithara_cli.ui.sanitize import sanitize_line

if TYPE_CHECKING:
    from rich.console import Console

_stderr: Console | None = None


DUMB_TERMS = frozenset({"dumb", "unknown"})
"""TERM values of terminals that cannot move the cursor (Rich's own list)."""


def stderr_is_terminal() -> bool:
    """stderr is a terminal that can redraw: worth a live view and colours.

    A dumb one (``TERM=dumb``: Emacs' M-x shell, some CI consoles) gets the plain lines, as
    they happen: Rich draws nothing live there and prints its last frame only at the end.
    """
    import os

    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "").lower() not in DUMB_TERMS


def tolerant_stdout() -> None:
    """stdout shows what its encoding lacks as an escape, as stderr does, rather than raise.

    In a Latin-1 or ASCII locale (``LANG=en_US.ISO-8859-1``, ``PYTHONIOENCODING=ascii``)
    Python's stdout raises on the first character it cannot encode, and what kithara prints
    there (``cache ls``, ``config path``, ``fetch --list``) quotes URLs, paths and titles
    from anywhere. JSON output is ASCII already, so this changes none of it.
    """
    import io

    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
        try:
            stream.reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # closed or detached: nothing will be printed anyway
            pass


def stderr_console() -> Console:
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def _plain(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except OSError:
        stderr_gone()


def stderr_gone() -> None:
    """stderr's reader has left (``2>&1 | head -1``): send what is still written, and Python's
    own flush at exit, to /dev/null, so the exit code stays the command's and no log of a
    broken pipe is written."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def print_error(message: str) -> None:
    """One line on stderr: ``kithara: error: ...``; the message is shown literally.

    Messages quote URLs and server text, so they are sanitised (controls escaped, length
    capped) on the terminal and plain paths alike: a redirected log is ``cat`` later.
    """
    message = sanitize_line(message)
    if stderr_is_terminal():
        from rich.text import Text

        stderr_console().print(Text.assemble(("kithara: error: ", "bold red"), message))
    else:
        _plain(f"kithara: error: {message}")


def print_note(message: str) -> None:
    """One line on stderr: ``kithara: ...``, sanitised as ``print_error``'s."""
    message = sanitize_line(message)
    if stderr_is_terminal():
        from rich.text import Text

        stderr_console().print(Text.assemble(("kithara: ", "dim"), message))
    else:
        _plain(f"kithara: {message}")
