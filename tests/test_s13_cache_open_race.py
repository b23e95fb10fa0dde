"""Players that open a new cache at the same moment all get it (none goes without)."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from kithara_cli.cache.store import CacheStore


def _open_at(root: str, start: float, results: multiprocessing.Queue[str]) -> None:
    while time.time() < start:  # all at once: the switch to WAL is where they collide
        pass
    try:
        CacheStore(Path(root)).close()
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(repr(exc))


def test_six_processes_opening_a_fresh_cache_together_all_open_it(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    outcomes: list[str] = []
    for round_ in range(12):  # before the retry: "database is locked" in ~1 open of 12
        results: multiprocessing.Queue[str] = ctx.Queue()
        start = time.time() + 0.2
        root = str(tmp_path / f"cache{round_}")
        procs = [ctx.Process(target=_open_at, args=(root, start, results)) for _ in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        outcomes += [results.get(timeout=5) for _ in procs]
    failures = [o for o in outcomes if o != "ok"]
    assert failures == [], failures
