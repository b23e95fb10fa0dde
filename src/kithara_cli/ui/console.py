"""The stderr console every command shares (Rich honours NO_COLOR and non-TTY by itself)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

_stderr: Console | None = None


def stderr_console() -> Console:
    global _stderr
    if _stderr is None:
        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def print_error(message: str) -> None:
    """One line on stderr: ``kithara: error: ...``; the message is shown literally."""
    console = stderr_console()
    if console.is_terminal:
        console.print(Text.assemble(("kithara: error: ", "bold red"), message))
    else:
        sys.stderr.write(f"kithara: error: {message}\n")
        sys.stderr.flush()


def print_note(message: str) -> None:
    console = stderr_console()
    if console.is_terminal:
        console.print(Text.assemble(("kithara: ", "dim"), message))
    else:
        sys.stderr.write(f"kithara: {message}\n")
        sys.stderr.flush()
