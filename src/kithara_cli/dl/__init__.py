"""Downloader: an asyncio loop on its own thread that runs fetch commands.

Promises:
- the loop's thread starts on first need (``start``/``with``, ``warm`` when the first URL needs
  the network, or the first ``submit``), and importing this package, ``dl.cached``,
  ``dl.command``, ``dl.freshness`` or ``dl.validate`` loads neither asyncio nor logging: a
  replay whose cached head plays before any request does not wait for them;
- one opener from ``net`` (``make_opener``) shared by every request: straight to small
  httpcore pools (``net.transport``: a pool costs O(connections) per request), with an
  httpx client built behind it only when a request needs one (proxy, redirect, cookies). With
  a cache the opener is made when a request first needs the network (``Downloader.opener``),
  so a run served whole from fresh cache entries never loads httpcore; at most
  ``max_concurrent`` requests in flight; DEMAND commands (a reader is waiting) start before
  PREFETCH ones;
- every accepted ``FetchCmd`` gets exactly one ``on_complete`` (ok, failed or cancelled, also
  when cancelled while still queued), called on the downloader thread;
- a body cut short, reset or stalled is resumed with Range (and If-Range, from the version
  pinned by the command's first response or given by its peer) from the last byte received;
  429/5xx are retried with backoff and jitter, honouring Retry-After; retries reset while
  bytes keep arriving above the minimum rate (a trickle is a stall, ``dl.validate``);
- every response is placed before use (``dl.transfer``): its identity (ETag, else
  Last-Modified, else length) must match the pinned one, 206s included; a 200 is the whole
  object from byte 0 and rewrites the command's range from its start; another version
  restarts the range (``on_change="restart"``) or fails the command with RemoteChangedError
  (``"fail"``: the peer holds other bytes of the old version). Never splices two versions;
  a 206's bytes are placed by its Content-Range alone: any its body holds past that range's
  end are dropped and the request fails as retryable (resumed from the range's end); a 416
  for bytes the pinned version has is another version (RemoteChangedError), not a 4xx;
- a body without a length is read to its end, and the outcome says where the resource ended
  (``FetchOutcome.resource_end``); a range the resource is too short for is an error
  (ResourceTooShortError), never a short success; gzip/deflate bodies are decoded
  (``net.encoding``), a 206 with a Content-Encoding refused;
- a ranged request of a URL whose redirects were followed before goes to their target
  (``dl.redirects``: not across origins with credentials; a failing target is forgotten
  and the URL asked again, not counted as a try);
- LoadSlow is published once a fetch outlives its soft timeout; the fetch is not aborted;
- every step of a request's life is an event on the bus;
- with a ``ByteCache`` (``dl.cached``; ``kithara_cli.cache`` implements it), a command the
  cache holds completes from it with the same events, marked ``from_cache``; a cached copy is
  checked with the server before any of its bytes are served unless the command's policy says
  it never changes or it is fresh (RFC 9111, ``dl.freshness``: max-age, Expires, heuristic;
  never with no-cache); what a transfer delivers of a resource of known length is recorded
  (never a no-store one); a remote that turns out changed under a cached version drops that
  version; offline, a command the cache cannot answer fails with OfflineMissError.
Never: decides what to fetch (peers do), blocks its loop on disk or CPU work beyond handing a
chunk to the command's sink, retries a fatal error, or patches the HTTP library (``net``
tunes httpcore, ``net.tuning``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.lazy import lazy_exports, lazy_where

if TYPE_CHECKING:
    from kithara_cli.dl.command import (
        CachePolicy,
        FetchCmd,
        FetchHandle,
        FetchOutcome,
        Priority,
        ResponseInfo,
        memory_sink,
    )
    from kithara_cli.dl.downloader import Downloader
    from kithara_cli.dl.validate import Identity, check_identity, strong_etag

# Loaded on first use (PEP 562): the cache's hook imports ``dl.cached``, ``dl.freshness`` and
# ``dl.validate`` without the downloader (asyncio, ssl: ~35 ms), so a replay's cached head
# plays before they load.
_WHERE = lazy_where(
    command=(
        "CachePolicy",
        "FetchCmd",
        "FetchHandle",
        "FetchOutcome",
        "Priority",
        "ResponseInfo",
        "memory_sink",
    ),
    downloader=("Downloader",),
    validate=(
        "Identity",
        "check_identity",
        "strong_etag",
    ),
)

__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "CachePolicy",
    "Downloader",
    "FetchCmd",
    "FetchHandle",
    "FetchOutcome",
    "Identity",
    "Priority",
    "ResponseInfo",
    "check_identity",
    "memory_sink",
    "strong_etag",
]
