"""The store as the downloader's ``ByteCache``: a writer thread, pins, per-process validation."""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading

from kithara_cli.cache.store import CacheStore, EntryMeta
from kithara_cli.dl.cached import CachedCopy
from kithara_cli.dl.validate import Identity

log = logging.getLogger(__name__)


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


class DiskCache:
    """Implements ``dl.cached.ByteCache``. Data is written off the downloader's loop, by one
    thread; everything this process touches is pinned until ``close``."""

    def __init__(self, store: CacheStore, *, offline: bool = False) -> None:
        self.store = store
        self.offline = offline
        self._validated: set[str] = set()
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[CachedCopy, int, bytes] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="kithara-cache", daemon=True)
        self._writer.start()
        self._closed = False

    # --- dl.cached.ByteCache ------------------------------------------------------------------

    # A cache that fails (a locked or damaged index, a full or vanished disk) costs the
    # network, never the fetch: every call below degrades to "not cached".

    def lookup(self, url: str) -> CachedCopy | None:
        try:
            found = self.store.entry(url)
            if found is None:
                return None
            meta, pieces = found
            if meta.total is None or not pieces:
                return None
            self.store.pin(url)
        except (sqlite3.Error, OSError):
            log.warning("cache lookup failed for %s", url, exc_info=True)
            return None
        identity = Identity(meta.etag, meta.last_modified, meta.total)
        spans = _merge([(p.start, p.end) for p in pieces])
        return CachedCopy(url, identity, meta.total, meta.ranges, meta.content_type, spans)

    def read(self, url: str, start: int, end: int) -> bytes | None:
        """Up to [start, end): stops at the end of a stored piece (the caller asks again)."""
        try:
            return self.store.read(url, start, end, one_piece=True)
        except (sqlite3.Error, OSError):
            return None

    def used(self, url: str) -> None:
        with contextlib.suppress(sqlite3.Error, OSError):
            self.store.touch(url)

    def record(self, copy: CachedCopy, start: int, data: bytes) -> None:
        if not self._closed:
            self._queue.put((copy, start, data))

    def forget(self, url: str) -> None:
        with contextlib.suppress(sqlite3.Error, OSError):
            self.store.remove(url)

    def is_validated(self, url: str) -> bool:
        with self._lock:
            return url in self._validated

    def set_validated(self, url: str) -> None:
        with self._lock:
            self._validated.add(url)

    # --- writing ------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            copy, start, data = item
            meta = EntryMeta(
                copy.url,
                copy.identity.etag,
                copy.identity.last_modified,
                copy.total,
                copy.ranges,
                copy.content_type,
            )
            try:
                self.store.pin(copy.url)
                self.store.put(meta, start, data)
            except Exception:  # a full disk or a busy index: the cache is best effort
                log.warning("cache write failed for %s", copy.url, exc_info=True)

    def flush(self) -> None:
        """Wait until every queued write is on disk."""
        self._queue.put(None)
        self._writer.join()
        self._writer = threading.Thread(target=self._write_loop, name="kithara-cache", daemon=True)
        self._writer.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._writer.join(timeout=30)
        with contextlib.suppress(sqlite3.Error, OSError):
            self.store.close()
