"""A cache kithara may not write is still read (session 15).

Found here: a cache prepared by a CI job and mounted read-only (or owned by another user)
could not be opened at all: SQLite's WAL journal wants its shared-memory file and a lock even
to read, so ``--offline`` failed with "cannot open the cache ...: unable to open database
file" (exit 2), a networked run went without the cache it had, and ``cache ls`` failed too.
Now such a directory is opened read-only (``mode=ro``, else ``immutable=1``) and nothing is
written there: ``--offline`` plays and fetches from it, a networked run uses its fresh copies
(saying once that it keeps nothing new), ``cache ls``/``info`` list it, and only what must write
(``cache clear``, ``cache rm``) fails, in one line, exit 2.

The read-only medium is a real one: a read-only bind mount in a mount namespace of its own
(``unshare``), where writes fail with EROFS even for root.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from conftest import KITHARA
from test_s14_cache_origins import ENV, Origin, fetch, origin, song

__all__ = ["origin", "song"]  # the s14 origin fixtures, used here

MOUNT_READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


def read_only(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``kithara ARGS`` with ``cache`` mounted read-only (for it alone)."""
    import os

    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **ENV}
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", MOUNT_READ_ONLY, str(cache), *KITHARA, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def snapshot(cache: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in cache.rglob("*")}


def test_offline_reads_a_read_only_cache_and_only_writes_fail(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, b)
    assert fetch(origin.url, out, cache)[0] == 0
    out.unlink()
    before = snapshot(cache)
    n = len(origin.seen)
    proc = read_only(
        cache, "fetch", origin.url, "--out", str(out), "--cache-dir", str(cache), "--offline"
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == origin.body
    assert "Traceback" not in proc.stderr and "cache:" not in proc.stderr
    events = tmp_path / "events.jsonl"
    proc = read_only(
        cache, "play", origin.url, "--offline", "--cache-dir", str(cache), "--output", "null",
        "--length", "0.5", "--no-ui", "--events", str(events),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    played = events.read_text()
    assert '"state": "ended"' in played and '"from_cache": true' in played
    proc = read_only(cache, "cache", "ls", "--cache-dir", str(cache))
    assert proc.returncode == 0 and origin.url in proc.stdout, proc.stderr
    proc = read_only(cache, "cache", "clear", "--cache-dir", str(cache))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"kithara: error: the cache at {cache} is read-only: cannot clear it"
    ]
    assert len(origin.seen) == n
    assert snapshot(cache) == before  # not a byte written, not a file made


def test_a_networked_run_uses_a_read_only_cache_and_keeps_nothing_new(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, b)
    assert fetch(origin.url, out, cache)[0] == 0
    out.unlink()
    before = snapshot(cache)
    n = len(origin.seen)
    proc = read_only(cache, "fetch", origin.url, "--out", str(out), "--cache-dir", str(cache))
    assert proc.returncode == 0, proc.stderr
    assert len(origin.seen) == n and out.read_bytes() == origin.body  # fresh: from the cache
    said = [line for line in proc.stderr.splitlines() if "cache:" in line]
    assert said == [
        f"kithara: cache: the cache at {cache} is read-only: using it, keeping nothing new"
    ]
    other = origin.url + "?another"
    out.unlink()
    proc = read_only(cache, "fetch", other, "--out", str(out), "--cache-dir", str(cache))
    assert proc.returncode == 0, proc.stderr
    assert len(origin.seen) > n and out.read_bytes() == origin.body
    assert snapshot(cache) == before


def test_a_read_only_index_of_an_older_kithara_is_read(origin: Origin, tmp_path: Path) -> None:
    """An index made before a column was added cannot be brought up to date there."""
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, b)
    assert fetch(origin.url, out, cache)[0] == 0
    out.unlink()
    db = sqlite3.connect(cache / "index.sqlite3")
    db.execute("ALTER TABLE entries DROP COLUMN vary")
    db.commit()
    db.close()
    proc = read_only(
        cache, "fetch", origin.url, "--out", str(out), "--cache-dir", str(cache), "--offline"
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == origin.body
