"""A fetch the persistent cache can answer: served from it, the rest fetched and stored.

The downloader consults a ``ByteCache`` (implemented by ``kithara_cli.cache``) before the
network. A command whose bytes are all cached completes from them with the same events as a
network fetch, marked ``from_cache``; one whose first bytes are cached gets those, then a
request for the rest pinned to the cached version (another version there is refused, never
spliced); everything a network transfer delivers is recorded into the cache, for resources
whose length is known, or once known: a body without one is kept when it has ended (a file's
is recorded piece by piece as it comes, unseen until then, and dropped when cut, past
UNSIZED_KEEP, an ICY answer, or its peer finding it live (``FetchCmd.cache`` set to "none"):
an endless stream is never kept; nor one with neither a validator nor a lifetime, which no
later run but an offline one could be given; a segment's or playlist's is held in memory to
its end); a response saying ``no-store`` is never kept. A cached copy is checked with the server
(If-None-Match / If-Modified-Since) before any of its bytes are served, unless it is fresh
(``dl.freshness``: max-age, Expires, or for policy "auto" a heuristic from Last-Modified;
never with no-cache): once per process for policy "auto", on every fetch but a process's
first for "always" (playlists: a live one reloads), never for "immutable" (segments). A
stale copy whose server cannot be asked, or (a file, policy "auto") answers with trouble of
its own (429, 5xx: RFC 5861's stale-if-error), is still served and kept (a Notice says so for
a file), unless it said no-cache or must-revalidate. A copy with no validator (no ETag, weak or strong, nor Last-Modified) cannot be confirmed
by any answer (the same length is not the same bytes): once stale it is fetched again. A file
dropped because the server's answer showed it changed, or could not confirm it, is told as a
``Notice``. Offline, a command the cache cannot answer fails with OfflineMissError
naming the missing bytes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kithara_cli.dl.command import ChunkSink, FetchCmd, FetchOutcome, ResponseInfo
from kithara_cli.dl.freshness import (
    MUST_REVALIDATE,
    NO_CACHE,
    Freshness,
    freshness,
    is_fresh,
    said_headers,
)
from kithara_cli.dl.validate import Identity, place
from kithara_cli.errors import OfflineMissError, RemoteChangedError
from kithara_cli.events.types import CacheRevalidated, FirstByte, Notice
from kithara_cli.net.encoding import content_coding

if TYPE_CHECKING:
    from kithara_cli.dl.downloader import Downloader
    from kithara_cli.dl.transfer import Job
    from kithara_cli.events import EventBus

# asyncio and ``dl.transfer`` load inside the coroutines (by then the downloader's loop runs):
# the cache's hook imports this module for ``CachedCopy`` and ``holds_fresh``, and a replay's
# head must not wait for them.

SERVE_CHUNK = 256 * 1024  # bytes per sink call when serving from the cache
READ_BYTES = 8 << 20  # bytes read from the cache per step (a step stops at a piece's end)
# A recorded run is stored in pieces of at most this. A piece is checked whole (SHA-256) on
# its first read, and a seek lands in one: 4 MiB took 12 ms to hash here, 1 MiB 3 ms.
PIECE_BYTES = 1 << 20
UNSIZED_LIMIT = 64 << 20  # a body of unknown length kept in memory until its end, at most
# A file of unknown length (policy "auto": chunked, close-delimited) is recorded piece by piece
# as it comes, out of every lookup's sight until it ends; past this it is taken for an endless
# stream and dropped (as ``file.source`` keeps such a body as a file up to the same size).
UNSIZED_KEEP = 256 << 20


@dataclass(frozen=True)
class CachedCopy:
    """A cached resource as the downloader sees it: its version and which bytes are there."""

    url: str
    identity: Identity
    total: int | None
    ranges: bool
    content_type: str | None
    spans: tuple[tuple[int, int], ...]  # merged, sorted [start, end) runs present
    fresh_until: float | None = None  # epoch seconds (dl.freshness); None: always checked
    directives: int = 0  # dl.freshness.NO_CACHE | MUST_REVALIDATE
    said: str | None = None  # its response's lifetime headers (dl.freshness.Freshness.said)
    vary: str | None = None  # its response's Vary: the request headers that chose it

    def covered_until(self, start: int) -> int:
        """The end of the run of cached bytes from ``start`` (``start`` itself: none)."""
        for a, b in self.spans:
            if a <= start < b:
                return b
        return start


class ByteCache(Protocol):
    """What the downloader needs of a persistent cache (all but the coroutine: any thread)."""

    offline: bool
    new: bool  # made by this run (no index before it): it holds nothing from earlier runs

    def now(self) -> float:
        """Epoch seconds: the clock freshness is judged by."""

    def lookup(self, url: str) -> CachedCopy | None: ...

    def read(self, copy: CachedCopy, start: int, end: int) -> bytes | None:
        """Verified bytes of ``copy``'s version from ``start``, at most to ``end`` (possibly
        fewer: ask again from where they stop), or None when they are missing, fail their
        check, or the entry holds another version by now (another process replaced it)."""

    def used(self, url: str) -> None:
        """The entry served a fetch: it is the most recently used."""

    def record(self, copy: CachedCopy, start: int, data: bytes) -> None:
        """Store bytes of ``copy``'s version (queued; another version replaces the entry)."""

    def forget(self, url: str) -> None:
        """Drop the entry (queued): lookups find nothing until it is gone, and what this
        process records of it afterwards counts as validated (``is_validated``)."""

    def refresh(self, url: str, fresh: Freshness) -> None:
        """The server confirmed the stored version: keep its new freshness (queued)."""

    def settle(self, url: str, total: int | None) -> None:
        """What was recorded of a body of unknown length ended at ``total`` (it becomes an
        entry of that length), or never ended (None: dropped); queued after the records."""

    def is_validated(self, url: str) -> bool: ...

    def set_validated(self, url: str) -> None: ...

    def report_to(self, report: Callable[[str], None]) -> None:
        """Tell the run's first failure of the cache (one line) to ``report``."""


def report_trouble(bus: EventBus, cache: ByteCache) -> None:
    """A cache that fails costs the network, not the run, and says so once: a warning."""
    cache.report_to(lambda text: bus.publish(Notice(level="warning", message=text)))


async def run_cached(dl: Downloader, job: Job, cache: ByteCache) -> FetchOutcome:
    """The command, from the cache where it can be; the network client (``dl.opener()``) is
    asked for only when a request is to be made, so fresh entries never load it."""
    from kithara_cli.dl.transfer import transfer

    # Told once a fetch runs: by then whoever shows the run's notices listens (a fetch's
    # progress view subscribes after the downloader is made).
    report_trouble(dl.bus, cache)
    cmd = job.handle.cmd
    if cmd.cache == "none" and not cache.offline:
        return await transfer(dl, dl.opener(), job)
    copy = cache.lookup(cmd.url) if cmd.cache != "none" else None
    if copy is not None and cmd.identity is not None and not cmd.identity.matches(copy.identity):
        # A command pinned to a version (a part of a file another request began, a resume)
        # takes no bytes of another, however recently that one was validated: a fetch that
        # restarted on a new version found the old one's parts recorded as they were cut.
        copy = None
    if copy is not None and not cache.offline:
        copy = await _revalidate(dl, cmd, copy, cache)
    info: ResponseInfo | None = None
    if copy is not None:
        served = await _serve(dl, job, copy, cache)
        if isinstance(served, FetchOutcome):
            return served
        info = served
    if cache.offline:
        if copy is None:  # nothing of it is kept
            raise OfflineMissError(f"offline: not in the cache: {cmd.url}")
        have = cmd.start + job.bytes_done
        upto = "" if cmd.end is None else str(cmd.end - 1)
        raise OfflineMissError(f"offline: bytes {have}-{upto} are not in the cache: {cmd.url}")
    opener = dl.opener()
    recorder = _Recorder(cache, cmd)
    try:
        outcome = await transfer(dl, opener, job)
    except RemoteChangedError:  # the stored version is not the server's any more
        recorder.restore()
        cache.forget(cmd.url)
        raise
    except BaseException:  # failed or cancelled: the bytes that came are still good ones
        recorder.restore()
        recorder.finish(None)
        raise
    recorder.restore()
    recorder.finish(outcome.resource_end)
    if info is not None and outcome.info is None:
        outcome = FetchOutcome(
            outcome.request_id,
            outcome.state,
            outcome.bytes,
            info=info,
            resource_end=outcome.resource_end,
            identity=outcome.identity,
            error=outcome.error,
            cancel_reason=outcome.cancel_reason,
        )
    return outcome


def holds_fresh(cache: ByteCache, url: str) -> bool:
    """Would a fetch of ``url`` (policy "auto") be answered without asking the server? Its
    first bytes are cached and fresh, or were confirmed by this process."""
    copy = cache.lookup(url)
    if copy is None or copy.covered_until(0) == 0:
        return False
    return cache.is_validated(url) or is_fresh(copy.fresh_until, copy.directives, cache.now())


def _target_end(cmd: FetchCmd, total: int | None) -> int | None:
    end = cmd.end
    if end is None and cmd.limit is not None:
        end = cmd.start + cmd.limit
    if total is not None:
        end = total if end is None else min(end, total)
    return end


async def _serve(
    dl: Downloader, job: Job, copy: CachedCopy, cache: ByteCache
) -> FetchOutcome | ResponseInfo | None:
    """Hand the cached bytes from the command's start to its sink.

    Returns the outcome when the cache held the whole command, else the response info given
    to the peer (the rest comes from the network, pinned to this version), else None.
    """
    import asyncio

    cmd = job.handle.cmd
    t0 = time.monotonic()
    run_end = copy.covered_until(cmd.start)
    end = _target_end(cmd, copy.total)
    if run_end <= cmd.start or (end is not None and end <= cmd.start):
        return None
    info = ResponseInfo(
        url=cmd.url,
        status=206 if copy.ranges else 200,
        total_size=copy.total,
        range_honoured=copy.ranges,
        etag=copy.identity.etag or copy.identity.weak,  # as the server sent it
        last_modified=copy.identity.last_modified,
        content_type=copy.content_type,
        identity=copy.identity,
    )
    job.from_cache = True
    job.pinned = copy.identity
    job.ttfb = time.monotonic() - t0
    upto = run_end if end is None else min(run_end, end)
    job.total = None if end is None else end - cmd.start
    dl.bus.publish(
        FirstByte(
            request_id=job.handle.request_id,
            ttfb=job.ttfb,
            status=info.status,
            partial=copy.ranges,
            total=job.total,
            from_cache=True,
        )
    )
    if cmd.on_response is not None:
        cmd.on_response(info)  # may move cmd.end (a split) or refuse
        end = _target_end(cmd, copy.total)
        upto = run_end if end is None else min(run_end, end)
    pos = cmd.start
    while pos < upto:
        stop = min(upto, pos + READ_BYTES)
        data = await asyncio.to_thread(cache.read, copy, pos, stop)
        if not data:  # dropped as corrupt or evicted meanwhile: the rest from the net
            break
        view = memoryview(data)
        for at in range(0, len(data), SERVE_CHUNK):
            cmd.sink(pos + at, bytes(view[at : at + SERVE_CHUNK]))
        pos += len(data)
        job.bytes_done = pos - cmd.start
        job.high_water = max(job.high_water, pos)
    cache.used(cmd.url)
    if end is not None and pos >= end:
        return FetchOutcome(
            job.handle.request_id,
            "ok",
            job.bytes_done,
            info=info,
            resource_end=copy.total,
            identity=copy.identity,
        )
    job.from_cache = False
    if cmd.identity is None:
        cmd.identity = copy.identity  # the rest must be this version: never spliced
    return info


async def _revalidate(
    dl: Downloader, cmd: FetchCmd, copy: CachedCopy, cache: ByteCache
) -> CachedCopy | None:
    """Is the cached copy still the server's version? None: do not use it."""
    import asyncio

    if cmd.cache == "immutable":
        return copy
    checked = cache.is_validated(cmd.url)
    if cmd.cache == "auto" and checked:
        return copy
    if not checked and is_fresh(copy.fresh_until, copy.directives, cache.now()):
        cache.set_validated(cmd.url)  # "always": a second fetch in this process asks
        dl.bus.publish(CacheRevalidated(url=cmd.url, status=0, fresh=True, asked=False))
        return copy
    # Without a validator no answer can confirm the stored bytes: the same length is not the
    # same bytes (a re-encoded CBR file, an edited tag). Still asked (a server that does not
    # answer leaves the copy usable, as any), but never confirmed.
    # A weak ETag is one (If-None-Match compares weakly: RFC 9110 section 13.1.2).
    tag = copy.identity.etag or copy.identity.weak
    checkable = bool(tag or copy.identity.last_modified)
    if cmd.cache == "always" and not checkable:
        return None  # a same-length playlist may still differ: fetched again
    headers = {k: v for k, v in (cmd.headers or {}).items() if k.lower() != "range"}
    if tag:
        headers["If-None-Match"] = tag
    if copy.identity.last_modified:
        headers["If-Modified-Since"] = copy.identity.last_modified
    if copy.ranges:
        headers["Range"] = "bytes=0-0"  # a server ignoring the condition sends one byte
    status = 0
    fresh = True
    changed = False  # a 304 naming another version than the copy's
    trouble = False  # no answer, or one about the server (429, 5xx), not about the file
    renewed: Freshness | None = None
    opener = dl.opener()  # a client that cannot be made fails the fetch, as any request
    try:
        async with asyncio.timeout(dl.net.connect_timeout + dl.net.read_timeout):
            async with opener.stream(cmd.url, headers) as resp:
                status = resp.status_code
                if status == 304:
                    fresh = checkable  # a 304 to a check that asked no condition says nothing
                    # ...and one naming another version (a strong ETag not the copy's, or
                    # any tag unlike it) confirms none stored (RFC 9111 4.3.4): changed.
                    changed = _other_tag(resp.headers.get("etag"), copy.identity)
                    fresh = fresh and not changed
                elif status in (200, 206):
                    coding = content_coding(resp.headers.get("content-encoding"))
                    p = place(status, resp.headers, 0, coding, cmd.url)
                    fresh = checkable and copy.identity.matches(p.identity)
                elif cmd.cache == "auto" and (status == 429 or status >= 500):
                    trouble = True  # the server's trouble, not the file's (a playlist: as any)
                else:
                    fresh = False  # gone or refused: let the fetch itself say so
                if fresh:
                    said = {k.lower(): v for k, v in resp.headers.items()}
                    if copy.identity.last_modified:  # a 304 need not repeat it
                        said.setdefault("last-modified", copy.identity.last_modified)
                    if status == 304:  # what it omits stays as stored (RFC 9111 4.3.4)
                        for name, value in said_headers(copy.said).items():
                            said.setdefault(name, value)
                    # A 304 freshens the stored response, whose status was a 200 or 206.
                    kept = 200 if status == 304 else status
                    renewed = _freshness_of(said, kept, cmd, cache.now())
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception:  # the server is away: the cached copy is all there is (stale if error)
        status = 0
        trouble = True
    if trouble and copy.directives & (NO_CACHE | MUST_REVALIDATE):
        fresh = False  # ...unless it said never to be used unchecked
    dl.bus.publish(CacheRevalidated(url=cmd.url, status=status, fresh=fresh))
    if trouble:  # kept either way: an error says nothing of the file's version
        if fresh and cmd.cache == "auto" and not cache.is_validated(cmd.url):
            cache.set_validated(cmd.url)  # not asked again by this process's other fetches
            answer = f"answered {status}" if status else "did not answer"
            message = f"cache: the server {answer}: using the cached copy of {cmd.url} unchecked"
            dl.bus.publish(Notice(level="info", message=message))
        return copy if fresh else None
    if not fresh:
        if cmd.cache == "auto" and cache.is_validated(cmd.url):
            return None  # another fetch of this process settled it meanwhile (and told it)
        cache.forget(cmd.url)
        if cmd.cache == "auto" and (status in (200, 206) or changed):  # a file
            why = "changed on the server" if checkable else "cannot be checked (no validator)"
            message = f"cache: the cached copy of {cmd.url} {why}: fetching it again"
            dl.bus.publish(Notice(level="info", message=message))
        return None
    cache.set_validated(cmd.url)
    if renewed is not None:
        cache.refresh(cmd.url, renewed)
    return copy


def _other_tag(sent: str | None, mine: Identity) -> bool:
    """Does a 304's ETag name another version than ``mine``? A strong tag must be the copy's
    strong one; any tag must be weakly the same (a copy whose tag the origin weakened, as
    nginx's gzip does, is still the one a strong tag of the same value names)."""
    if not sent:
        return False  # a 304 need not repeat the tag
    tag = mine.etag or mine.weak
    if tag is None:
        return False  # a copy kept by its Last-Modified: nothing to compare
    if mine.etag and not sent.startswith("W/"):
        return sent != mine.etag
    return sent.removeprefix("W/") != tag.removeprefix("W/")


def _freshness_of(headers: Mapping[str, str], status: int, cmd: FetchCmd, now: float) -> Freshness:
    """A response's freshness (``headers``: names lower case); a playlist (policy "always")
    is given no heuristic lifetime."""
    return freshness(headers, status, received=now, heuristic=cmd.cache == "auto")


class _Recorder:
    """Tees a transfer's chunks into the cache, as contiguous runs of one version."""

    def __init__(self, cache: ByteCache, cmd: FetchCmd) -> None:
        self.cache = cache
        self.cmd = cmd
        self.copy: CachedCopy | None = None
        self.run_start = 0
        self.buf = bytearray()
        self.dropped = False
        self.unsized = False  # a file of unknown length, recorded as it comes (UNSIZED_KEEP)
        self._sink: ChunkSink = cmd.sink
        self._on_response: Callable[[ResponseInfo], None] | None = cmd.on_response
        cmd.sink = self.sink
        cmd.on_response = self.on_response

    def restore(self) -> None:
        self.cmd.sink = self._sink
        self.cmd.on_response = self._on_response

    def on_response(self, info: ResponseInfo) -> None:
        if self._on_response is not None:
            self._on_response(info)
        if self.copy is not None and not self.copy.identity.matches(info.identity):
            self.buf.clear()  # another version from here: what was buffered is not kept
        total = info.total_size if info.total_size is not None else info.identity.length
        pinned = self.cmd.identity
        if total is None and pinned is not None and pinned.matches(info.identity):
            total = pinned.length  # the rest of a cached copy, from a server giving no length
        self.unsized = total is None and self.cmd.cache == "auto"
        fresh = _freshness_of(info.caching, info.status, self.cmd, self.cache.now())
        ident = info.identity
        unservable = not (ident.etag or ident.weak or ident.last_modified or fresh.fresh_until)
        if self.unsized and (info.icy or unservable):
            # A station (an ICY answer), or a body no later run could be given but offline
            # (no validator to confirm it, no lifetime: a plain HTTP streamer's): not kept.
            self.dropped = True
        vary = info.caching.get("vary")
        if fresh.no_store or any(n.strip() == "*" for n in (vary or "").split(",")):
            self.buf.clear()
            self.dropped = True  # the server asked for it not to be kept, or never reused
        self.copy = CachedCopy(
            self.cmd.url,
            info.identity,
            total,
            info.range_honoured,
            info.content_type,
            (),
            fresh.fresh_until,
            fresh.directives,
            fresh.said,
            vary,
        )

    def sink(self, offset: int, data: bytes) -> None:
        self._sink(offset, data)
        if self.cmd.cache == "none" and not self.dropped:  # its peer found it live
            self.buf.clear()
            self.dropped = True
            if self.unsized:
                self.cache.settle(self.cmd.url, None)  # what was recorded of it goes
        if self.copy is None or self.dropped:
            return
        if offset != self.run_start + len(self.buf):
            self.flush()
            self.run_start = offset
        self.buf += data
        if len(self.buf) >= PIECE_BYTES and (self.copy.total is not None or self.unsized):
            self.flush()
            if self.unsized and self.run_start > UNSIZED_KEEP:
                self.dropped = True  # no end in sight: an endless stream, not a file
                self.cache.settle(self.cmd.url, None)
        elif len(self.buf) > UNSIZED_LIMIT:
            self.buf.clear()
            self.dropped = True  # no length and no end in sight: a live stream, not kept

    def flush(self) -> None:
        copy = self.copy
        if self.buf and copy is not None and (copy.total is not None or self.unsized):
            self.cache.record(copy, self.run_start, bytes(self.buf))
        self.run_start += len(self.buf)
        self.buf.clear()

    def finish(self, resource_end: int | None) -> None:
        copy = self.copy
        if self.unsized:  # recorded as it came: it ended there, or (cut, dropped) it goes
            if not self.dropped and resource_end is not None:
                self.flush()
            self.cache.settle(self.cmd.url, None if self.dropped else resource_end)
            return
        if copy is not None and copy.total is None and resource_end is not None:
            self.copy = dataclasses.replace(copy, total=resource_end)
        if not self.dropped:
            self.flush()
