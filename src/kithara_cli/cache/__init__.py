"""The persistent cache: what ``play`` and ``fetch`` downloaded, kept for the next run.

Promises:
- one directory (``paths.cache_dir``: ``--cache-dir``, ``KITHARA_CACHE_DIR``, XDG) holding an
  SQLite index in WAL mode and data files named by digests of (URL, byte range, version):
  no URL text ever reaches a path, so no URL can read or write outside the directory; a
  directory kithara makes is private to its user (0700: the index names every URL played);
  a URL's ``user:password@`` is stored as ``***@`` (an index written before is masked when
  opened), while its key is the digest of the whole URL: other credentials, another entry;
  so are those a run sends to that URL in headers (Authorization, Cookie, the cookies the jar
  sends there: ``cache.sent``), whatever the response's ``public`` or ``s-maxage`` say (they
  let a shared cache serve other users; they do not promise other credentials the same bytes);
- a response is given only to a run sending what its request sent of the headers its
  ``Vary`` names (``cache.vary``); one saying ``Vary: *`` is never kept;
- a resource is stored as pieces (sparse byte ranges, at most 1 MiB each) of one version
  (strong ETag, else Last-Modified, else length, as ``dl.validate`` pins it; a weak ETag is
  kept as sent and asked with: If-None-Match compares weakly); bytes of another
  version replace the entry, never join it; a body of unknown length (chunked) is kept once
  it has ended, as that length (recorded as it comes, seen by no lookup until then; not when
  cut, past ``dl.cached.UNSIZED_KEEP``, or an ICY answer: endless streams are not kept);
  never a response that said ``no-store``;
- each entry keeps the freshness its latest response gave it (``dl.freshness``: RFC 9111
  max-age / Expires / a heuristic from Last-Modified, and no-cache / must-revalidate): a fresh
  entry is used without asking the server, a stale one is asked (If-None-Match /
  If-Modified-Since) before any of its bytes are served, and a confirmation renews it;
- crash-safe: a data file is fsynced and renamed into place before its index row commits;
  every piece's length and SHA-256 are checked on first read, a bad one is dropped and
  refetched; two processes may share the cache (SQLite locks the index; temporary files
  have unique names, are removed when their write fails, and those of a writer that died
  are swept on open); an index made before the freshness columns gains them in place;
- a cache directory kithara may not write (a read-only mount, another user's) is opened
  read-only (``cache.index``) and never written: what it holds is used, nothing is kept;
- a cache that fails (cannot open, a damaged index, a full disk) costs the
  network, never the run: its first failure is told once, one line (``hook.DiskCache.
  report_to``); a damaged index is named, and ``kithara cache clear`` removes it with the
  data files it named (``paths.discard``); ``kithara cache`` commands create no cache;
- a size cap (default 1 GiB) with least-recently-used eviction, which never evicts an entry
  pinned by a live process (every entry a running play or fetch touched);
- AES keys and live segments never reach it (their fetch commands say ``cache="none"``).
- a play URL may have a head (``head``: its first second of decoded PCM, with the versions of
  every resource it was decoded from and its output format; for HLS, the first segment of one
  variant, never an encrypted one), stored as an entry of its own under
  ``paths.head_key(url)`` (evicted, sized, cleared like any; ``remove(url)`` takes it too;
  ``cache ls`` and the entry count of ``cache info`` leave heads out, its size counts them);
  a head is given only when every part is cached at that version and usable unasked.
Never: decides what to fetch, or serves bytes of a version it cannot name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kithara_cli.cache.hook import DiskCache
    from kithara_cli.cache.store import CacheStore

# Nothing heavy is imported here: ``play`` imports the hook on its start-up path, and the
# store (sqlite3) is opened on a thread of its own, off the way to first audio.


def opening_store(
    directory: Path, cap: int | None = None, scope: Callable[[str], str | None] | None = None
) -> Callable[[], CacheStore]:
    """Start opening the store now, on a thread of its own; the call returned waits for it
    (raising what opening raised). Started before the hook, and so the downloader's modules,
    are imported, the index is open when the run's first URL is looked up: the downloader
    then knows at once whether it needs its HTTP client (``Downloader.warm``)."""
    opened: list[CacheStore] = []
    failed: list[Exception] = []

    def run() -> None:
        try:
            from kithara_cli.cache.store import CacheStore

            opened.append(CacheStore(directory, cap, scope=scope))
        except Exception as exc:  # reported by whoever waits for the store
            failed.append(exc)

    thread = threading.Thread(target=run, name="kithara-cache-open", daemon=True)
    thread.start()

    def wait() -> CacheStore:
        thread.join()
        if failed:
            raise failed[0]
        return opened[0]

    return wait


def is_new(directory: Path) -> bool:
    """No index there yet: a cache this run creates, holding nothing (one stat call)."""
    from kithara_cli.cache.paths import INDEX_NAME

    return not (directory / INDEX_NAME).exists()


def open_cache(
    directory: Path | None = None, cap: int | None = None, *, offline: bool = False
) -> DiskCache:
    """The cache for a play or fetch run (``close`` it when the run ends)."""
    from kithara_cli.cache.paths import cache_dir

    folder = cache_dir(directory)
    new = is_new(folder)
    open_store = opening_store(folder, cap)
    from kithara_cli.cache.hook import DiskCache

    return DiskCache(open_store, offline=offline, new=new, where=folder)


__all__ = ["is_new", "open_cache", "opening_store"]
