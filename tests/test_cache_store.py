"""The cache store on its own: names, versions, checks on read, eviction, pins, the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.cache.paths import cache_dir
from kithara_cli.cache.store import CacheStore, EntryMeta

ODD_URLS = [
    "http://h/../../../../etc/passwd",
    "http://h/%2e%2e/%2e%2e/%2e%2e/x",
    "http://h/" + "a" * 5000,
    "http://h/\x00nul/\n/\u202e/..\\..\\win",
    "http://h/~/$HOME/`id`/;rm -rf",
]


def meta(url: str, etag: str = '"v1"', total: int = 1000) -> EntryMeta:
    return EntryMeta(url, etag, None, total)


def files_under(root: Path) -> set[Path]:
    return {p.resolve() for p in root.rglob("*") if p.is_file()}


def test_crafted_urls_stay_inside_the_cache_dir(tmp_path: Path) -> None:
    root = tmp_path / "c"
    outside_before = files_under(tmp_path)
    store = CacheStore(root)
    for url in ODD_URLS:
        store.put(meta(url, total=10), 0, b"0123456789")
        assert store.read(url, 0, 10) == b"0123456789"
    store.close()
    new = files_under(tmp_path) - outside_before
    assert new and all(p.is_relative_to(root.resolve()) for p in new)
    # data files are named by digests only: no URL text in any name
    assert all(len(p.name) == 64 for p in (root / "data").rglob("*") if p.is_file())


def test_a_corrupt_or_short_piece_is_dropped_not_served(tmp_path: Path) -> None:
    store = CacheStore(tmp_path)
    store.put(meta("http://h/a"), 0, b"a" * 1000)
    store.put(meta("http://h/b"), 0, b"b" * 1000)
    fresh = CacheStore(tmp_path)  # another process: nothing verified yet
    _, (piece_a,) = fresh.entry("http://h/a")  # type: ignore[misc]
    _, (piece_b,) = fresh.entry("http://h/b")  # type: ignore[misc]
    path_a = tmp_path / "data" / piece_a.file[:2] / piece_a.file
    path_a.write_bytes(b"a" * 999 + b"X")  # same length, wrong bytes
    path_b = tmp_path / "data" / piece_b.file[:2] / piece_b.file
    path_b.write_bytes(b"b" * 10)  # short
    assert fresh.read("http://h/a", 0, 1000) is None
    assert fresh.read("http://h/b", 0, 10) is None
    assert fresh.entry("http://h/a")[1] == []  # type: ignore[index]
    assert not path_a.exists()


def test_another_version_replaces_never_joins(tmp_path: Path) -> None:
    store = CacheStore(tmp_path)
    store.put(meta("http://h/f", '"v1"'), 0, b"1" * 500)
    store.put(meta("http://h/f", '"v2"'), 500, b"2" * 500)
    entry, pieces = store.entry("http://h/f")  # type: ignore[misc]
    assert entry.etag == '"v2"' and [(p.start, p.end) for p in pieces] == [(500, 1000)]
    assert store.read("http://h/f", 0, 1000) is None  # never v1's start with v2's end
    assert store.read("http://h/f", 500, 1000) == b"2" * 500


def test_lru_eviction_under_the_cap_spares_pinned_entries(tmp_path: Path) -> None:
    holder = CacheStore(tmp_path, cap=2500)
    holder.put(meta("http://h/pinned"), 0, b"p" * 1000)
    holder.pin("http://h/pinned")  # a running playback holds it (this process is alive)
    other = CacheStore(tmp_path, cap=2500)
    other.put(meta("http://h/old"), 0, b"o" * 1000)
    other.put(meta("http://h/new"), 0, b"n" * 1000)  # 3000 > 2500: one must go
    urls = {e.url for e in other.entries()}
    assert urls == {"http://h/pinned", "http://h/new"}
    assert other.total_size() <= 2500
    holder.close()  # the pin goes with its process
    other.put(meta("http://h/newer"), 0, b"m" * 1000)
    assert "http://h/pinned" not in {e.url for e in other.entries()}


def test_a_dead_processes_pin_holds_nothing(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from kithara_cli.cache.store import CacheStore, "
        "EntryMeta; s = CacheStore(Path(sys.argv[1])); "
        "s.put(EntryMeta('http://h/x', None, None, 100), 0, b'x' * 100); s.pin('http://h/x'); "
        "import os; os._exit(0)"  # no close: the pin row stays behind
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=30)
    store = CacheStore(tmp_path, cap=150)
    assert store.entries()[0].pinned is False
    store.put(meta("http://h/y", total=100), 0, b"y" * 100)
    assert {e.url for e in store.entries()} == {"http://h/y"}


def test_cache_dir_follows_option_env_and_xdg(tmp_path: Path) -> None:
    assert cache_dir(tmp_path / "opt", {"KITHARA_CACHE_DIR": "/e"}) == tmp_path / "opt"
    assert cache_dir(None, {"KITHARA_CACHE_DIR": "/e", "XDG_CACHE_HOME": "/x"}) == Path("/e")
    assert cache_dir(None, {"XDG_CACHE_HOME": "/x"}) == Path("/x/kithara")
    assert cache_dir(None, {"XDG_CACHE_HOME": "rel"}) == Path.home() / ".cache" / "kithara"


def test_cache_commands(tmp_path: Path) -> None:
    store = CacheStore(tmp_path)
    store.put(meta("http://h/one", total=2000), 0, b"1" * 1000)
    store.put(meta("http://h/\x1b[31mred"), 0, b"2" * 1000)
    store.close()
    d = ["--cache-dir", str(tmp_path)]
    listed = run_cli("cache", "ls", "--json", *d)
    assert listed.returncode == 0, listed.stderr
    rows = {r["url"]: r for r in json.loads(listed.stdout)}
    assert rows["http://h/one"]["size"] == 1000 and rows["http://h/one"]["complete"] is False
    plain = run_cli("cache", "ls", *d)
    assert "http://h/one" in plain.stdout and "\x1b" not in plain.stdout
    info = json.loads(run_cli("cache", "info", "--json", *d).stdout)
    assert info == {"path": str(tmp_path), "size": 2000, "cap": 1 << 30, "entries": 2}
    assert run_cli("cache", "rm", "http://h/one", *d).returncode == 0
    missing = run_cli("cache", "rm", "http://h/one", *d)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert run_cli("cache", "clear", *d).returncode == 0
    assert json.loads(run_cli("cache", "info", "--json", *d).stdout)["entries"] == 0
    assert not any((tmp_path / "data").rglob("*.part"))
    assert os.listdir(tmp_path / "tmp") == []


@pytest.mark.parametrize("size", ["nope", "-1"])
def test_bad_cache_size_is_a_usage_error(tmp_path: Path, size: str) -> None:
    proc = run_cli("play", "http://127.0.0.1:9/x.mp3", "--cache-size", size, "--no-ui")
    assert proc.returncode == 2 and "cache-size" in proc.stderr


def test_freshness_is_kept_renewed_and_an_old_index_migrated(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    db = sqlite3.connect(old / "index.sqlite3")
    db.executescript(  # the schema as the first release wrote it: no freshness columns
        "CREATE TABLE entries(key TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT, "
        "last_modified TEXT, total INTEGER, ranges INTEGER NOT NULL DEFAULT 1, "
        "content_type TEXT, size INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, "
        "last_used REAL NOT NULL);"
    )
    db.close()
    store = CacheStore(old)
    url = "http://h/a.mp3"
    store.put(EntryMeta(url, '"v1"', None, 10, fresh_until=123.0, directives=2), 0, b"x" * 10)
    found = store.entry(url)
    assert found is not None and (found[0].fresh_until, found[0].directives) == (123.0, 2)
    store.refresh(url, 456.0, 0)
    found = store.entry(url)
    assert found is not None and (found[0].fresh_until, found[0].directives) == (456.0, 0)
    store.put(EntryMeta(url, '"v1"', None, 10, fresh_until=789.0), 0, b"x" * 10)
    found = store.entry(url)
    assert found is not None and found[0].fresh_until == 789.0  # the latest response holds
    store.close()
