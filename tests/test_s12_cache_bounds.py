"""The persistent cache stays within its bounds while a download fills it.

Before: ``fetch`` of a body larger than ``--cache-size`` stored all of it (a 3 MB file left a
cache of 2.9 MiB over its 1 MiB cap, the 1 GiB default over by whatever was fetched, every byte
written twice), and what waited for the cache's thread was held in memory without bound: a
1.6 GB fetch on a fast link to a disk throttling its dirty pages peaked at 1.2 GB resident and
took 30 s (curl: 11 MB, 4 s).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.cache.hook import PENDING_LIMIT, DiskCache
from kithara_cli.cache.store import CacheStore
from kithara_cli.dl.cached import CachedCopy
from kithara_cli.dl.validate import Identity
from kithara_cli.server import MediaServer

MIB = 1 << 20


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bounds")
    (root / "big.bin").write_bytes(os.urandom(3 * MIB))
    (root / "small.bin").write_bytes(os.urandom(200_000))
    return root


def cache_entries(cache: Path) -> list[str]:
    proc = run_cli("cache", "ls", "--cache-dir", str(cache))
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if "http://" in line]


def test_a_body_larger_than_the_cache_is_not_kept(blobs: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(blobs) as srv:
        for name in ("big.bin", "small.bin"):
            out = tmp_path / name
            proc = run_cli(
                "fetch", srv.url(name), "-o", str(out), "-q",
                "--cache-dir", str(cache), "--cache-size", "1M",
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            assert out.read_bytes() == (blobs / name).read_bytes()
    kept = cache_entries(cache)
    assert len(kept) == 1 and "small.bin" in kept[0], kept
    assert sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) < 1 * MIB


class HeldStore(CacheStore):
    """A real store whose writes wait until ``release`` is set: a disk behind the network."""

    release: threading.Event

    def put(self, *args: object, **kwargs: object) -> None:
        assert self.release.wait(30)
        super().put(*args, **kwargs)  # type: ignore[arg-type]


def test_what_waits_for_the_disk_is_bounded(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "cache")
    store.release = threading.Event()
    cache = DiskCache(lambda: store)
    assert cache.store is store
    pieces = 4 * PENDING_LIMIT // MIB
    url = "http://127.0.0.1:9/long.bin"
    copy = CachedCopy(url, Identity(etag='"v1"'), pieces * MIB, True, None, ())
    peak = 0
    for i in range(pieces):  # the downloader's loop never waits for the cache's thread
        cache.record(copy, i * MIB, os.urandom(MIB))
        peak = max(peak, cache.pending_bytes)
    assert peak <= PENDING_LIMIT
    store.release.set()
    cache.close()
    assert cache.pending_bytes == 0
    found = CacheStore(tmp_path / "cache").entry(url)
    assert found is not None
    kept = sum(p.end - p.start for p in found[1])
    assert 0 < kept <= PENDING_LIMIT
