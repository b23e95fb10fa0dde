"""Whether a process id still names a live process: how the media cache and the byte cache
tell a dead writer's leftovers (temp dirs, claims) from a running one's."""

from __future__ import annotations

import os


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
