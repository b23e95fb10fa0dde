"""The persistent cache: what ``play`` and ``fetch`` downloaded, kept for the next run.

Promises:
- one directory (``paths.cache_dir``: ``--cache-dir``, ``KITHARA_CACHE_DIR``, XDG) holding an
  SQLite index in WAL mode and data files named by digests of (URL, byte range, version):
  no URL text ever reaches a path, so no URL can read or write outside the directory;
- a resource is stored as pieces (sparse byte ranges, at most 1 MiB each) of one version
  (strong ETag, else Last-Modified, else length, as ``dl.validate`` pins it); bytes of another
  version replace the entry, never join it; only resources of known length are kept (not
  endless streams), never a response that said ``no-store``;
- each entry keeps the freshness its latest response gave it (``dl.freshness``: RFC 9111
  max-age / Expires / a heuristic from Last-Modified, and no-cache / must-revalidate): a fresh
  entry is used without asking the server, a stale one is asked (If-None-Match /
  If-Modified-Since) before any of its bytes are served, and a confirmation renews it;
- crash-safe: a data file is fsynced and renamed into place before its index row commits;
  every piece's length and SHA-256 are checked on first read, a bad one is dropped and
  refetched; two processes may share the cache (SQLite locks the index; temporary files
  have unique names); an index made before the freshness columns gains them in place;
- a size cap (default 1 GiB) with least-recently-used eviction, which never evicts an entry
  pinned by a live process (every entry a running play or fetch touched);
- AES keys and live segments never reach it (their fetch commands say ``cache="none"``).
Never: decides what to fetch, or serves bytes of a version it cannot name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kithara_cli.cache.hook import DiskCache

# Nothing heavy is imported here: ``play`` imports the hook on its start-up path, and the
# store (sqlite3) is opened on the cache's own thread, off the way to first audio.


def open_cache(
    directory: Path | None = None, cap: int | None = None, *, offline: bool = False
) -> DiskCache:
    """The cache for a play or fetch run (``close`` it when the run ends)."""
    from kithara_cli.cache.hook import DiskCache
    from kithara_cli.cache.paths import cache_dir

    def open_store():  # type: ignore[no-untyped-def]
        from kithara_cli.cache.store import CacheStore

        return CacheStore(cache_dir(directory), cap)

    return DiskCache(open_store, offline=offline)


__all__ = ["open_cache"]
