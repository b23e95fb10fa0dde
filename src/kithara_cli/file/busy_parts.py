"""Parallel parts a server turned away as busy, put off until a connection of its own is free.

Many servers cap connections per client and answer the extra ones 429 or 503 (file hosts,
small CDNs, an nginx ``limit_conn``): the first connection is served, the parts beside it are
not. Before, those parts ran out of retries and failed the whole fetch (exit 3) while the
first connection was delivering the file; curl and wget, one connection each, fetched it.
Now such a part waits, and is asked again each time another request ends well: the fetch
goes on with as many connections as the server grants, down to one.
"""

from __future__ import annotations

import threading

from kithara_cli.dl import FetchCmd, Identity
from kithara_cli.errors import KitharaError, ServerBusyError
from kithara_cli.storage import SparseResource


class BusyParts:
    """The parts put off (their commands), and the busy answer that put the last one off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: list[FetchCmd] = []
        self.error: KitharaError | None = None

    def put_off(self, cmd: FetchCmd, error: KitharaError | None, others_running: bool) -> bool:
        """Keep ``cmd`` for later if the server was busy and another request still runs
        (it will free a connection); False: the failure is the fetch's."""
        if not isinstance(error, ServerBusyError) or not others_running or cmd.end is None:
            return False
        with self._lock:
            self._parts.append(cmd)
            self.error = error
        return True

    def next_gaps(self, resource: SparseResource) -> list[tuple[int, int, Identity | None]]:
        """The missing bytes of the first part put off that still has some, to ask for again
        now that a connection is free (empty: none)."""
        with self._lock:
            while self._parts:
                part = self._parts.pop(0)
                assert part.end is not None
                gaps = resource.gaps(part.start, part.end)
                if gaps:
                    return [(a, b, part.identity) for a, b in gaps]
        return []

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._parts)
