"""Facts about a process by its id: whether it still runs (how the media cache and the byte
cache tell a dead writer's leftovers from a running one's) and its resident memory (how the
bench and the tests watch a long stream's memory stay flat)."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (ours included); a pid we may not signal is alive, not gone."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in kB (Linux ``/proc``); 0 once it is gone or unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
