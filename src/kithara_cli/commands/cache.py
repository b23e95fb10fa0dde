"""``kithara cache ls|rm|clear|info``, and the cache options ``play`` and ``fetch`` share."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kithara_cli.cache.paths import cache_dir, parse_size
from kithara_cli.errors import UsageError
from kithara_cli.ui.format import fmt_size_binary
from kithara_cli.ui.sanitize import sanitize

if TYPE_CHECKING:
    from kithara_cli.cache.hook import DiskCache
    from kithara_cli.cache.store import CacheStore

# "off" turns the cache off where no option says otherwise (the test suite sets it so that
# tests written before the cache existed see no cache).
ENV_SWITCH = "KITHARA_CACHE"


@dataclass
class CacheSettings:
    """--cache-dir, --cache-size, --offline, --no-cache."""

    directory: Path | None = None
    size: str | None = None
    offline: bool = False
    disabled: bool = False

    def cap(self) -> int | None:
        if self.size is None:
            return None
        try:
            return parse_size(self.size)
        except ValueError as exc:
            raise UsageError(f"--cache-size: {exc}") from None

    def open(self) -> DiskCache | None:
        """The cache for a run, or None with --no-cache (or KITHARA_CACHE=off)."""
        cap = self.cap()  # a bad --cache-size is a usage error, cache or not
        if self.offline and self.disabled:
            raise UsageError("--offline plays from the cache: it cannot go with --no-cache")
        off = os.environ.get(ENV_SWITCH, "").lower() in ("off", "0", "no")
        if self.disabled or (off and not self.offline and self.directory is None):
            return None
        directory = cache_dir(self.directory)
        if not self.offline:  # opened on a thread of its own, off the way to first audio
            from kithara_cli.cache import is_new, opening_store

            new = is_new(directory)
            open_store = opening_store(directory, cap)  # before the hook loads the downloader
            from kithara_cli.cache.hook import DiskCache

            return DiskCache(open_store, offline=False, new=new)
        from kithara_cli.cache.hook import DiskCache
        from kithara_cli.cache.store import STORE_ERRORS, CacheStore

        try:  # offline, the cache is all there is: a cache that cannot open is an error
            store = CacheStore(directory, cap)
        except STORE_ERRORS as exc:
            raise UsageError(f"cannot open the cache: {exc}") from None
        return DiskCache(lambda: store, offline=True)


@contextlib.contextmanager
def run_cache(settings: CacheSettings | None) -> Iterator[DiskCache | None]:
    """The cache for one play or fetch run, closed (writes drained, pins let go) at its end."""
    cache = settings.open() if settings is not None else None
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()


def _store(directory: Path | None) -> CacheStore:
    from kithara_cli.cache.store import STORE_ERRORS, CacheStore

    try:
        return CacheStore(cache_dir(directory))
    except STORE_ERRORS as exc:
        raise UsageError(f"cannot open the cache at {cache_dir(directory)}: {exc}") from None


def run_ls(directory: Path | None, as_json: bool) -> None:
    store = _store(directory)
    try:
        rows = store.entries()
    finally:
        store.close()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "url": r.url,
                        "size": r.size,
                        "total": r.total,
                        "complete": r.total is not None and r.size >= r.total,
                        "last_used": r.last_used,
                        "pinned": r.pinned,
                        "etag": r.etag,
                        "last_modified": r.last_modified,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    for r in rows:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.last_used))
        whole = f"{100 * r.size // r.total}%" if r.total else "?"
        print(f"{fmt_size_binary(r.size):>10}  {whole:>4}  {used}  {sanitize(r.url)}")


def run_rm(directory: Path | None, url: str) -> None:
    store = _store(directory)
    try:
        removed = store.remove(url)
    finally:
        store.close()
    if not removed:
        raise UsageError(f"not in the cache: {url}")


def run_clear(directory: Path | None) -> None:
    store = _store(directory)
    try:
        n = store.clear()
    finally:
        store.close()
    print(f"removed {n} entries")


def run_info(directory: Path | None, as_json: bool) -> None:
    store = _store(directory)
    try:
        info: dict[str, str | int] = {
            "path": str(store.root),
            "size": store.total_size(),
            "cap": store.cap,
            "entries": len(store.entries()),
        }
    finally:
        store.close()
    if as_json:
        print(json.dumps(info, indent=2))
        return
    print(f"path     {sanitize(info['path'])}")
    size, cap = int(info["size"]), int(info["cap"])
    print(f"size     {fmt_size_binary(size)} ({size} bytes)")
    print(f"cap      {fmt_size_binary(cap)} ({cap} bytes)")
    print(f"entries  {info['entries']}")
