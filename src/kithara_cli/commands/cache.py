"""``kithara cache ls|rm|clear|info``, and the cache options ``play`` and ``fetch`` share."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kithara_cli.cache.paths import cache_dir, parse_size
from kithara_cli.errors import OfflineMissError, UsageError
from kithara_cli.ui.format import fmt_size_binary
from kithara_cli.ui.sanitize import redact_userinfo, sanitize

if TYPE_CHECKING:
    from kithara_cli.cache.hook import DiskCache
    from kithara_cli.cache.sent import SentHeaders
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
    # What the run sends to each URL (``cache.sent``): a response's Vary is matched with it,
    # and what it stores with credentials is found only by runs sending the same ones to that
    # URL (RFC 9111 section 3.5: a response to a request with Authorization is not given to a
    # request without it).
    sent: SentHeaders | None = None

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
            scope = None if self.sent is None else self.sent.scope
            open_store = opening_store(directory, cap, scope)  # before the hook loads dl
            from kithara_cli.cache.hook import DiskCache

            return DiskCache(
                open_store, offline=False, new=new, where=directory, sent=self._sends()
            )
        from kithara_cli.cache import is_new
        from kithara_cli.cache.hook import DiskCache
        from kithara_cli.cache.store import STORE_ERRORS, CacheStore

        if is_new(directory):  # a mistyped --cache-dir: said, and not created
            raise OfflineMissError(f"offline: not in the cache (there is no cache at {directory})")
        scope = None if self.sent is None else self.sent.scope
        try:  # offline, the cache is all there is: a cache that cannot open is an error
            store = CacheStore(directory, cap, scope=scope)
        except STORE_ERRORS as exc:
            raise _cannot_open(directory, exc) from None
        return DiskCache(lambda: store, offline=True, where=directory, sent=self._sends())

    def _sends(self) -> Callable[[str], Mapping[str, str]] | None:
        return None if self.sent is None else self.sent.headers


@contextlib.contextmanager
def run_cache(settings: CacheSettings | None) -> Iterator[DiskCache | None]:
    """The cache for one play or fetch run, closed (writes drained, pins let go) at its end."""
    cache = settings.open() if settings is not None else None
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()


def _cannot_open(folder: Path, exc: BaseException) -> UsageError:
    from kithara_cli.cache.store import CacheReadOnlyError, is_damaged

    if isinstance(exc, CacheReadOnlyError):  # the one thing asked needs a write
        return UsageError(str(exc))
    if is_damaged(exc):
        hint = "its index is damaged; `kithara cache clear` starts it afresh"
        return UsageError(f"cannot open the cache at {folder} ({exc}): {hint}")
    return UsageError(f"cannot open the cache at {folder}: {exc}")


@contextlib.contextmanager
def _opened(directory: Path | None) -> Iterator[CacheStore | None]:
    """The cache's store for ``kithara cache``; None where no cache was ever made (looking
    creates nothing: a mistyped --cache-dir leaves no directory behind)."""
    from kithara_cli.cache import is_new
    from kithara_cli.cache.store import STORE_ERRORS, CacheStore

    folder = cache_dir(directory)
    if is_new(folder):
        yield None
        return
    try:
        store = CacheStore(folder)
    except STORE_ERRORS as exc:
        raise _cannot_open(folder, exc) from None
    try:
        yield store
    except STORE_ERRORS as exc:
        raise _cannot_open(folder, exc) from None
    finally:
        with contextlib.suppress(*STORE_ERRORS):
            store.close()


def run_ls(directory: Path | None, as_json: bool) -> None:
    with _opened(directory) as store:
        rows = store.entries() if store is not None else []
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "url": redact_userinfo(r.url),  # a URL's password: not here
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
    with _opened(directory) as store:
        removed = store is not None and store.remove(url)
    if not removed:
        raise UsageError(f"not in the cache: {url}")


def run_clear(directory: Path | None) -> None:
    from kithara_cli.cache import is_new
    from kithara_cli.cache.paths import discard
    from kithara_cli.cache.store import STORE_ERRORS, CacheStore, is_damaged

    folder = cache_dir(directory)
    if is_new(folder):
        print("removed 0 entries")
        return
    try:
        store = CacheStore(folder)
        try:
            n = store.clear()
        finally:
            with contextlib.suppress(*STORE_ERRORS):
                store.close()
    except STORE_ERRORS as exc:
        if not is_damaged(exc):
            raise _cannot_open(folder, exc) from None
        try:  # a damaged index names nothing: it and every data file go, as a clear would
            files = discard(folder)
        except OSError as why:
            raise UsageError(f"cannot clear the cache at {folder}: {why}") from None
        print(f"the index was damaged ({exc}): removed it and {files} data files")
        return
    print(f"removed {n} entries")


def run_info(directory: Path | None, as_json: bool) -> None:
    from kithara_cli.cache.paths import DEFAULT_CAP

    info: dict[str, str | int] = {
        "path": str(cache_dir(directory)),
        "size": 0,
        "cap": DEFAULT_CAP,
        "entries": 0,
    }
    with _opened(directory) as store:
        if store is not None:
            info.update(size=store.total_size(), cap=store.cap, entries=len(store.entries()))
    if as_json:
        print(json.dumps(info, indent=2))
        return
    print(f"path     {sanitize(info['path'])}")
    size, cap = int(info["size"]), int(info["cap"])
    print(f"size     {fmt_size_binary(size)} ({size} bytes)")
    print(f"cap      {fmt_size_binary(cap)} ({cap} bytes)")
    print(f"entries  {info['entries']}")
