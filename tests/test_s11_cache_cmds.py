"""``kithara cache`` on a cache that is not there, or whose index is damaged: it looks without
creating anything, and a damaged index is named with what mends it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.cache.store import CacheStore, EntryMeta


def test_looking_at_a_missing_cache_creates_nothing(tmp_path: Path) -> None:
    """Before: ``kithara cache ls --cache-dir typo/`` made the directory, its index and its
    folders."""
    where = tmp_path / "no" / "such" / "cache"
    d = ["--cache-dir", str(where)]
    listed = run_cli("cache", "ls", *d)
    assert listed.returncode == 0 and listed.stdout == "", listed.stderr
    assert json.loads(run_cli("cache", "ls", "--json", *d).stdout) == []
    info = run_cli("cache", "info", "--json", *d)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout) == {"path": str(where), "size": 0, "cap": 1 << 30, "entries": 0}
    cleared = run_cli("cache", "clear", *d)
    assert cleared.returncode == 0 and cleared.stdout == "removed 0 entries\n"
    removed = run_cli("cache", "rm", "http://h/x.mp3", *d)
    assert removed.returncode == 2 and removed.stderr.count("\n") == 1, removed.stderr
    assert not (tmp_path / "no").exists()


def test_a_damaged_index_is_named_and_cleared(tmp_path: Path) -> None:
    store = CacheStore(tmp_path)
    store.put(EntryMeta("http://h/a.mp3", '"v1"', None, 3000), 0, b"a" * 3000)
    store.close()
    (tmp_path / "stray.txt").write_text("not kithara's")
    (tmp_path / "index.sqlite3").write_bytes(b"\0" * 512)
    d = ["--cache-dir", str(tmp_path)]
    for args in (("ls",), ("info",), ("rm", "http://h/a.mp3")):
        proc = run_cli("cache", *args, *d)
        lines = proc.stderr.splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert lines[0].startswith("kithara: error: ") and "kithara cache clear" in lines[0]
    cleared = run_cli("cache", "clear", *d)
    assert cleared.returncode == 0 and "removed it and 1 data files" in cleared.stdout
    assert (tmp_path / "stray.txt").read_text() == "not kithara's"
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file()] == []
    info = json.loads(run_cli("cache", "info", "--json", *d).stdout)
    assert info["entries"] == 0 and info["size"] == 0


def test_a_new_cache_is_private_to_its_user(tmp_path: Path) -> None:
    """The index names every URL played (a signed CDN link, a ``user:password@``) and the
    data is what was heard. Before: the directory was made 0755, readable by every local
    user (Debian's homes are 0755 too). A directory that exists keeps its mode."""
    made = tmp_path / "xdg" / "kithara"
    CacheStore(made).close()
    assert made.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    CacheStore(shared).close()
    assert shared.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("size", ["inf", "1e400", "nan", "-inf"])
def test_a_size_that_is_no_number_of_bytes_is_a_usage_error(tmp_path: Path, size: str) -> None:
    """Before: ``--cache-size inf`` (or 1e400) was an internal error, exit 1 and a crash
    report; ``nan`` said 'cannot convert float NaN to integer'."""
    args = ("--cache-size", size, "--cache-dir", str(tmp_path / "c"), "-q")
    proc = run_cli("fetch", "http://127.0.0.1:9/x.mp3", "-o", str(tmp_path / "x.mp3"), *args)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("kithara: error: --cache-size: bad size"), lines
    assert not (tmp_path / "c").exists()
