"""Time to first audio counts from the process's own start (Python's start-up too)."""

from __future__ import annotations

import os
import time

_IMPORT_TIME = time.monotonic()


def seconds_since_process_start() -> float:
    """Wall time since this process was created (so Python's own start-up counts too)."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        ticks = os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORT_TIME
