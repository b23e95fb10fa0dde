"""The store as the downloader's ``ByteCache``: its own thread, pins, per-process validation.

The store (SQLite) is opened off the caller's thread (``cache.opening_store`` starts it
before this module, and so the downloader, is imported), so opening it is off the way to
first audio; the first lookup waits for it. A cache that fails (cannot open, a locked or damaged
index, a full or vanished disk) costs the network, never the fetch: every call degrades to
"not cached", and the run's first failure is told once, in one line, to whoever listens
(``report_to``: the downloader puts it on its bus as a warning); the rest go to the log.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from kithara_cli.cache.vary import matches, named, selecting
from kithara_cli.dl.freshness import is_fresh

if TYPE_CHECKING:  # dl.cached and its commands load with the first lookup: after a head plays
    import logging
    from pathlib import Path

    from kithara_cli.cache.head import Head, HeadFormat, HeadPart, HeadVersion
    from kithara_cli.cache.store import CacheStore
    from kithara_cli.dl.cached import CachedCopy
    from kithara_cli.dl.freshness import Freshness


def _log() -> logging.Logger:
    import logging  # loaded when something is logged: a replay's head plays before it

    return logging.getLogger(__name__)


Variant = tuple[str, str | None]  # an HLS head's media playlist URL and ``--audio`` choice
OPEN_WAIT = 30.0  # seconds a lookup waits for the store to open (SQLite's own lock timeout)
# Bytes waiting for the cache's thread, at most. A download outruns the disk (a fetch on a fast
# link, a disk throttling its dirty pages) and the cache is best effort: past this, what comes
# is not kept (the entry keeps a hole the network fills on a replay), rather than held in memory
# without bound or the download made to wait.
PENDING_LIMIT = 16 << 20


def fits(copy: CachedCopy, store: CacheStore, upto: int) -> bool:
    """Can the cache hold the whole body? Of one of unknown length, its bytes up to ``upto``."""
    return (copy.total if copy.total is not None else upto) <= store.cap


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

    def __init__(
        self,
        open_store: Callable[[], CacheStore],
        *,
        offline: bool = False,
        new: bool = False,
        clock: Callable[[], float] = time.time,
        where: Path | None = None,
        sent: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self.offline = offline
        # The headers the run sends to a URL (``cache.sent.SentHeaders.headers``): what a
        # stored response's Vary is matched with. None: no headers beyond a client's own.
        self._sent = sent
        self.where = where  # the directory, for what a failure says
        self.new = new  # no index before this run: nothing is cached yet
        self._clock = clock
        self._open_store = open_store
        self._store: CacheStore | None = None
        self._opened = threading.Event()
        self._validated: set[str] = set()
        self._forgetting: set[str] = set()  # dropped by ``forget``, its removal still queued
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Callable[[CacheStore], object], int] | None] = queue.Queue()
        self._pending = 0  # bytes of queued writes (PENDING_LIMIT)
        self._passed_over: set[str] = set()  # URLs a piece of which was not kept: logged once
        self._closed = False
        self._report: Callable[[str], None] | None = None
        self._untold: str | None = None  # the first failure, until someone listens
        self._told = False
        self._writer = threading.Thread(target=self._run, name="kithara-cache", daemon=True)
        self._writer.start()

    @property
    def store(self) -> CacheStore | None:
        self._opened.wait(OPEN_WAIT)
        return self._store

    # --- telling failures -------------------------------------------------------------------

    def report_to(self, report: Callable[[str], None]) -> None:
        """Tell the run's first failure to ``report`` (now, if it has happened already)."""
        with self._lock:
            self._report = report
            untold, self._untold = self._untold, None
        if untold is not None:
            report(untold)

    def _failed(self, doing: str, exc: BaseException) -> None:
        """Log a failure; tell the run's first one (the cache is best effort: the run goes
        on from the network)."""
        _log().warning("cache: cannot %s", doing, exc_info=exc)
        from kithara_cli.cache.store import is_damaged

        where = f" {self.where}" if self.where is not None else ""
        if is_damaged(exc):
            text = (
                f"cache: the index of the cache{where} is damaged ({exc}): going on without"
                " it; `kithara cache clear` starts it afresh"
            )
        else:
            text = f"cache: cannot {doing}{where} ({exc}): going on without it"
        self._tell(text)

    def _tell(self, text: str) -> None:
        """Say ``text``, if nothing has been said yet this run (one line about the cache)."""
        with self._lock:
            if self._told:
                return
            self._told = True
            report = self._report
            if report is None:
                self._untold = text
                return
        report(text)

    # --- dl.cached.ByteCache ------------------------------------------------------------------

    def now(self) -> float:
        return self._clock()

    def sends(self, url: str) -> Mapping[str, str]:
        return {} if self._sent is None else self._sent(url)

    def _given(self, vary: str | None, url: str) -> bool:
        """May an entry that kept ``vary`` (``cache.vary``) be given to this run's request?"""
        return vary is None or matches(vary, self.sends(url))

    def lookup(self, url: str) -> CachedCopy | None:
        store = self.store
        if store is None:
            return None
        with self._lock:
            if url in self._forgetting:
                return None
        from kithara_cli.cache.store import STORE_ERRORS
        from kithara_cli.dl.cached import CachedCopy
        from kithara_cli.dl.validate import Identity

        try:
            found = store.entry(url)
            if found is None:
                return None
            meta, pieces = found
            if meta.total is None or not pieces or not self._given(meta.vary, url):
                return None  # (another Vary: a response chosen by other request headers)
            store.pin(url)
        except STORE_ERRORS as exc:
            self._failed("read the cache", exc)
            return None
        identity = Identity.of(meta.etag, meta.last_modified, meta.total)  # (a weak one too)
        spans = _merge([(p.start, p.end) for p in pieces])
        return CachedCopy(
            url,
            identity,
            meta.total,
            meta.ranges,
            meta.content_type,
            spans,
            meta.fresh_until,
            meta.directives,
            meta.said,
            named(meta.vary),
        )

    def read(self, copy: CachedCopy, start: int, end: int) -> bytes | None:
        """Up to [start, end) of ``copy``'s version: stops at the end of a stored piece (the
        caller asks again); None once the entry holds another version."""
        store = self.store
        if store is None:
            return None
        from kithara_cli.cache.store import STORE_ERRORS, EntryMeta

        ident = copy.identity
        vary = None if copy.vary is None else selecting(copy.vary, self.sends(copy.url))
        etag = ident.etag or ident.weak
        version = EntryMeta(copy.url, etag, ident.last_modified, copy.total, vary=vary)
        try:
            return store.read(copy.url, start, end, one_piece=True, version=version)
        except STORE_ERRORS as exc:
            self._failed("read the cache", exc)
            return None

    def used(self, url: str) -> None:
        self._later(lambda s: s.touch(url))

    def record(self, copy: CachedCopy, start: int, data: bytes) -> None:
        """Keep ``data`` at ``start`` of ``copy``, off the caller's thread; not at all when the
        whole body would not fit under the cache's cap (it would push out everything else and
        still overflow), or when PENDING_LIMIT bytes already wait for the disk."""
        from kithara_cli.cache.store import EntryMeta  # loaded by the cache's thread by now

        size = len(data)
        store = self._store if self._opened.is_set() else None
        if store is not None and store.read_only:
            return  # (said once, when it opened)
        if store is not None and not fits(copy, store, start + size):
            self._pass_over(copy.url, "larger than the cache")
            if copy.total is None:  # what came of it goes too
                self._later(lambda s: s.settle(copy.url, None))
            return
        with self._lock:
            behind = self._pending + size > PENDING_LIMIT
            if not behind:
                self._pending += size
        if behind:
            self._pass_over(copy.url, "the disk is behind the download")
            return
        meta = EntryMeta(
            copy.url,
            copy.identity.etag or copy.identity.weak,  # as sent: a weak one is a validator
            copy.identity.last_modified,
            copy.total,
            copy.ranges,
            copy.content_type,
            copy.fresh_until,
            copy.directives,
            copy.said,
            None if copy.vary is None else selecting(copy.vary, self.sends(copy.url)),
        )

        def put(store: CacheStore) -> None:
            if fits(copy, store, start + size):
                store.pin(copy.url)
                store.put(meta, start, data)

        self._later(put, size)

    def _pass_over(self, url: str, why: str) -> None:
        with self._lock:
            if url in self._passed_over:
                return
            self._passed_over.add(url)
        _log().info("cache: not keeping all of %s: %s", url, why)

    @property
    def pending_bytes(self) -> int:
        """Bytes recorded and not yet written (at most PENDING_LIMIT)."""
        with self._lock:
            return self._pending

    def refresh(self, url: str, fresh: Freshness) -> None:
        self._later(lambda s: s.refresh(url, fresh.fresh_until, fresh.directives, fresh.said))

    def settle(self, url: str, total: int | None) -> None:
        self._later(lambda s: s.settle(url, total))

    def forget(self, url: str) -> None:
        """Drop ``url``'s entry (after the writes queued before it). Until it is gone, lookups
        find nothing: no other fetch of this process may serve the old bytes meanwhile. What
        this process records of it from now on is the version the server gives it now."""
        with self._lock:
            self._forgetting.add(url)
            self._validated.add(url)

        def drop(store: CacheStore) -> None:
            try:
                store.remove(url)
            finally:
                with self._lock:
                    self._forgetting.discard(url)

        self._later(drop)

    def is_validated(self, url: str) -> bool:
        with self._lock:
            return url in self._validated

    def set_validated(self, url: str) -> None:
        with self._lock:
            self._validated.add(url)

    # --- heads (cache.head): a replay's first second of audio ---------------------------------

    def replay_head(self, url: str) -> Head | None:
        """The head kept for play URL ``url`` (at the format it names), when every part it was
        decoded from is cached at that version and a fetch of it would be answered without a
        request (fresh, or offline); else None (and the play goes as without a head)."""
        if self.new:  # nothing cached before this run (and no wait for the index to open)
            return None
        store = self.store
        if store is None:
            return None
        from kithara_cli.cache.head import load
        from kithara_cli.cache.store import STORE_ERRORS

        try:
            head = load(store, url)
        except STORE_ERRORS as exc:
            self._failed("read the cache", exc)
            return None
        if head is None or head.url != url:
            return None
        for part in head.version.parts:
            if not self._holds_unasked(store, part):
                return None
        return head

    def _holds_unasked(self, store: CacheStore, version: HeadPart) -> bool:
        """Is ``version.url`` cached at that version from its first byte, usable unasked (fresh,
        confirmed by this process, or offline)? As ``dl.cached.holds_fresh`` over ``lookup``,
        read from the store itself: the downloader's modules load after a head plays."""
        from kithara_cli.cache.store import STORE_ERRORS

        url = version.url
        try:
            found = store.entry(url)
            if found is None or not any(p.start == 0 for p in found[1]):
                return False
            store.pin(url)
        except STORE_ERRORS as exc:
            self._failed("read the cache", exc)
            return False
        meta = found[0]
        if not self._given(meta.vary, url):
            return False
        if (meta.etag, meta.last_modified, meta.total) != (
            version.etag,
            version.last_modified,
            version.total,
        ):
            return False
        return (
            self.offline
            or self.is_validated(url)
            or is_fresh(meta.fresh_until, meta.directives, self.now())
        )

    def save_head(self, url: str, version: HeadVersion, fmt: HeadFormat, pcm: bytes) -> None:
        """Keep ``pcm`` as the head of ``url`` at ``version`` (queued; a failure is logged)."""
        from kithara_cli.cache.head import Head, save

        head = Head(url, version, fmt, pcm)
        self._later(lambda s: save(s, head))

    def save_head_of(
        self, url: str, parts: tuple[str, ...], fmt: HeadFormat, pcm: bytes, *, variant: Variant
    ) -> None:
        """Keep ``pcm`` as the head of ``url``, decoded from ``parts`` as the cache holds them
        (HLS: looked up on the cache's thread, after the writes of those parts queued before;
        nothing is kept when one is not in the cache). ``variant``: its media playlist URL and
        the ``--audio`` choice."""
        from kithara_cli.cache.head import Head, HeadPart, HeadVersion, save

        def keep(store: CacheStore) -> None:
            found: list[HeadPart] = []
            for part in parts:
                entry = store.entry(part)
                if entry is None or entry[0].total is None or not entry[1]:
                    return
                meta = entry[0]
                found.append(HeadPart(part, meta.etag, meta.last_modified, meta.total))
            version = HeadVersion(tuple(found), *variant)
            save(store, Head(url, version, fmt, pcm))

        self._later(keep)

    def _later(self, action: Callable[[CacheStore], object], size: int = 0) -> None:
        """On the cache's thread, off the downloader's loop, in order (``size``: the bytes it
        holds, given back to PENDING_LIMIT if it never runs)."""
        if not self._closed:
            self._queue.put((action, size))
        else:
            self._done(size)

    def _done(self, size: int) -> None:
        if size:
            with self._lock:
                self._pending -= size

    # --- the cache's thread: open, then write -----------------------------------------------

    def _run(self) -> None:
        try:
            self._store = self._open_store()
        except Exception as exc:  # any failure to open: this run goes without a cache
            self._failed("open the cache", exc)
        finally:
            self._opened.set()
        store = self._store
        if store is not None and store.read_only and not self.offline:
            where = f" at {self.where}" if self.where is not None else ""
            self._tell(f"cache: the cache{where} is read-only: using it, keeping nothing new")
        while True:
            item = self._queue.get()
            if item is None:
                return
            action, size = item
            try:
                if store is not None and not store.read_only:  # every action writes
                    action(store)
            except Exception as exc:  # a full disk or a busy index: the cache is best effort
                self._failed("write to the cache", exc)
            finally:
                self._done(size)

    def close(self) -> None:
        """Drain the queued writes, let go of the pins."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._writer.join(timeout=30)
        store = self._store
        if store is not None:
            from kithara_cli.cache.store import STORE_ERRORS

            try:
                store.close()
            except STORE_ERRORS:
                pass
