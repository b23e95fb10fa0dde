"""A cache that cannot be used (its directory is a file, the disk fills up mid-play, its index
is damaged): the play goes on from the network, and one warning line says the cache is not
being used, and how to mend it when kithara can."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.cache.store import CacheStore
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trouble-media")
    encode_file(root / "tone.mp3", 4.0, "mp3")
    encode_file(root / "long.mp3", 30.0, "mp3")  # ~480 KB: more than a small disk holds
    return root


def play(url: str, wav: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["play", url, "--no-ui", "--output", f"wav:{wav}", *extra]
    return run_cli(*args, timeout=60, env=ENV)


def warnings(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of a play's stderr that speak of the cache (the head's note aside)."""
    assert "Traceback" not in proc.stderr
    return [x for x in proc.stderr.splitlines() if "cache:" in x and "cached head" not in x]


def test_a_cache_dir_that_is_a_file_plays_from_the_network_and_says_so(
    media: Path, tmp_path: Path
) -> None:
    """Before: the play went on without the cache and said nothing (the reason went to a
    log file only --verbose names)."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache should be\n")
    with MediaServer(media) as srv:
        url = srv.url("tone.mp3")
        proc = play(url, tmp_path / "a.wav", "--cache-dir", str(blocker))
        ref = play(url, tmp_path / "ref.wav", "--no-cache")
        out = tmp_path / "copy.mp3"
        fetched = run_cli("fetch", url, "-o", str(out), "--cache-dir", str(blocker))
    assert fetched.returncode == 0 and out.read_bytes() == (media / "tone.mp3").read_bytes()
    told = warnings(fetched)  # the fetch's progress view shows it too
    assert len(told) == 1 and "cannot open" in told[0], fetched.stderr
    assert proc.returncode == 0 and ref.returncode == 0, proc.stderr
    said = warnings(proc)
    assert len(said) == 1 and "cannot open" in said[0], proc.stderr
    assert str(blocker) in said[0]
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()
    assert blocker.read_text() == "a file where the cache should be\n"


def test_a_cache_that_cannot_be_written_costs_the_cache_not_the_play(
    media: Path, tmp_path: Path
) -> None:
    """Every data file's folder is taken by a file: each write fails (as on a full or
    read-only disk). Before: not a word of it."""
    cache = tmp_path / "cache"
    (cache / "data").mkdir(parents=True)
    for n in range(256):
        (cache / "data" / f"{n:02x}").write_bytes(b"")
    with MediaServer(media) as srv:
        url = srv.url("long.mp3")
        proc = play(url, tmp_path / "a.wav", "--cache-dir", str(cache))
        ref = play(url, tmp_path / "ref.wav", "--no-cache")
    assert proc.returncode == 0 and ref.returncode == 0, proc.stderr
    said = warnings(proc)
    assert len(said) == 1 and "cannot write" in said[0], proc.stderr
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()
    # Nothing half-written is left, and nothing is served: offline says what is missing.
    assert list((cache / "tmp").iterdir()) == []
    offline = play(url, tmp_path / "off.wav", "--cache-dir", str(cache), "--offline")
    errors = [x for x in offline.stderr.splitlines() if x.startswith("kithara: error:")]
    assert offline.returncode == 3 and len(errors) == 1, offline.stderr
    assert "not in the cache" in errors[0]


FILL = """
import resource, signal, sys
from pathlib import Path
from kithara_cli.cache.store import CacheStore, EntryMeta
store = CacheStore(Path(sys.argv[1]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # a disk with 100 KB free
try:
    store.put(EntryMeta("http://h/a.mp3", '"v1"', None, 500_000), 0, bytes(500_000))
except OSError as exc:
    print(type(exc).__name__)
"""


def test_a_write_that_fills_the_disk_leaves_no_part_file(tmp_path: Path) -> None:
    """Before: each failed write left its half-written temporary file behind, uncounted and
    never evicted: on a full disk the cache's own leftovers kept it full (one run left 221 KB
    of a 300 KB tmpfs in tmp/)."""
    cache = tmp_path / "cache"
    proc = subprocess.run(
        [sys.executable, "-c", FILL, str(cache)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == "OSError", proc.stderr
    assert list((cache / "tmp").iterdir()) == []


def test_parts_left_by_a_dead_process_are_swept_on_open(tmp_path: Path) -> None:
    """A process killed mid-write leaves its temporary part: the next open removes it (the
    names carry the writer's pid), never a live writer's."""
    cache = tmp_path / "cache"
    CacheStore(cache).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, timeout=30)  # fmt: skip
    orphan = cache / "tmp" / f"{'a' * 64}.{int(dead.stdout)}.0123456789ab.part"
    mine = cache / "tmp" / f"{'b' * 64}.{os.getpid()}.0123456789ab.part"
    orphan.write_bytes(b"x" * 1000)
    mine.write_bytes(b"y" * 1000)
    CacheStore(cache).close()
    assert not orphan.exists() and mine.exists()


def test_a_damaged_index_is_named_and_cache_clear_mends_it(media: Path, tmp_path: Path) -> None:
    """Before: the play said nothing, and ``kithara cache clear`` failed on the same damaged
    index (exit 2): only deleting the directory by hand made the cache work again."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        url = srv.url("tone.mp3")
        first = play(url, tmp_path / "a.wav", "--cache-dir", str(cache))
        assert first.returncode == 0, first.stderr
        index = cache / "index.sqlite3"
        index.write_bytes(index.read_bytes()[:1000])  # truncated: a crash of the disk
        damaged = play(url, tmp_path / "b.wav", "--cache-dir", str(cache))
        assert damaged.returncode == 0, damaged.stderr
        said = warnings(damaged)
        assert len(said) == 1 and "kithara cache clear" in said[0], damaged.stderr
        cleared = run_cli("cache", "clear", "--cache-dir", str(cache))
        assert cleared.returncode == 0, cleared.stderr
        assert "damaged" in cleared.stdout and "Traceback" not in cleared.stderr
        again = play(url, tmp_path / "c.wav", "--cache-dir", str(cache))
        assert again.returncode == 0 and warnings(again) == [], again.stderr
    offline = play(url, tmp_path / "d.wav", "--cache-dir", str(cache), "--offline")
    assert offline.returncode == 0, offline.stderr
    assert (tmp_path / "d.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()
