"""When this run of kithara began: the clock that "first audio X s after launch" counts from.

The process's creation time (from /proc) also counts Python's own start-up, which is ours to
pay. But a script that does other work and then ``exec``s kithara (``scripts/quickstart.sh``
installs first) keeps its process, and so its creation time: that work is not kithara's. So
``__main__.run()`` marks the moment kithara's own code starts, before its heavy imports, and
when the process had already lived longer than any interpreter start-up before that mark,
the clock starts at the mark instead.
"""

from __future__ import annotations

import os
import time

# More than this between the process's creation and kithara's first line of code is not
# Python starting (20-60 ms, a few hundred on a cold disk) but a parent script's work.
INTERPRETER_START_UP_LIMIT = 1.0

_marked_at: float | None = None
_IMPORTED_AT = time.monotonic()


def mark(at: float | None = None) -> None:
    """Called first thing by ``__main__.run()``; later calls keep the first mark."""
    global _marked_at
    if _marked_at is None:
        _marked_at = time.monotonic() if at is None else at


def process_age() -> float | None:
    """Wall time since this process was created, or None where /proc cannot tell."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        ticks = os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / ticks
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def seconds_since_launch() -> float:
    """Seconds since kithara was launched: process creation, unless a parent script's work
    came first (then kithara's own first line)."""
    now = time.monotonic()
    marked = _marked_at if _marked_at is not None else _IMPORTED_AT
    since_mark = now - marked
    age = process_age()
    if age is None or age - since_mark > INTERPRETER_START_UP_LIMIT:
        return since_mark
    return age
