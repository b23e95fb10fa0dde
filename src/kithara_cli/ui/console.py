"""The stderr console every command shares (Rich honours NO_COLOR and non-TTY by itself).

Rich is imported only when stderr is a terminal: plain lines need no Rich, and its import
costs tens of milliseconds of a command's start-up (time to first audio counts them).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from kithara_cli.errors import OutputError
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
    """The one console the dashboards draw on; making it chooses their glyphs (ASCII where
    its encoding has no box-drawing characters: see ``glyphs``)."""
    global _stderr
    if _stderr is None:
        from rich.console import Console

        from kithara_cli.ui import glyphs

        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
        glyphs.choose(_stderr.encoding)
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
    _to_devnull(sys.stderr)


def _to_devnull(stream: TextIO | None) -> None:
    import os

    if stream is None:  # closed at launch (>&-): nothing reaches it anyway
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # detached
        pass


def stdout_reader_left() -> bool:
    """Click's own answer to EPIPE on stdout (``kithara cache ls | head -1``): it wraps stdout
    so the last flush is quiet, and exits 1. The reader has what it wanted: as when stderr's
    reader leaves, that is no failure, and the caller exits 0 instead."""
    from typer._click.utils import PacifyFlushWrapper

    return isinstance(sys.stdout, PacifyFlushWrapper)


def local_output_error(exc: OSError) -> OutputError | None:
    """An OSError no layer caught, as local output failing to write (``>/dev/full``, a full
    disk, EIO): exit 6 with one line, as the exit table says; None for any other errno (a
    bug, for the crash log). Click echoes and flushes in place, so for stdout this is where
    the error surfaces."""
    import errno

    if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
        return None
    what = f" {exc.filename}" if exc.filename else " the output"
    return OutputError(f"cannot write{what}: {exc.strerror or exc}")


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
