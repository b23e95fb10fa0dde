"""``kithara`` on a pseudo-terminal, as a shell runs it: the pty is its controlling terminal,
and every byte it writes there is collected until it exits."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable

from conftest import KITHARA


def spawn_on_pty(
    args: list[str] | tuple[str, ...],
    *,
    term: str = "xterm-256color",
    cols: int = 200,
    rows: int = 50,
    env: dict[str, str] | None = None,
    stdin: str = "pty",
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``kithara ARGS`` with stdout and stderr on a new pty (``cols`` x ``rows``) and
    stdin on it too, or ``"null"``, ``"pipe"`` or ``"closed"``; returns (process, master fd)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    closed = stdin == "closed"

    def in_child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if closed:
            os.close(0)

    proc = subprocess.Popen(
        [*KITHARA, *args],
        stdin={"pty": slave, "null": subprocess.DEVNULL, "pipe": subprocess.PIPE}.get(stdin),
        stdout=slave,
        stderr=slave,
        env={**base, "TERM": term, "KITHARA_AUDIO_DEVICE": "none", **(env or {})},
        start_new_session=True,  # the pty becomes its controlling terminal, as in a shell
        preexec_fn=in_child,
    )
    os.close(slave)
    return proc, master


def read_until_exit(
    proc: subprocess.Popen[bytes],
    master: int,
    timeout: float,
    on_data: Callable[[bytes], None] | None = None,
) -> bytes:
    """Every byte written to the pty until the process closes it (killed, and an
    AssertionError, after ``timeout`` s); ``on_data`` sees the bytes so far after each read."""
    raw = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.1)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed its end
                break
            if not data:
                break
            raw += data
            if on_data is not None:
                on_data(raw)
        else:
            proc.kill()
            raise AssertionError(f"kithara {proc.args} still running after {timeout} s")
    finally:
        os.close(master)
        proc.wait(timeout=10)
    return raw
