"""Playing through the persistent cache: offline replay, revalidation only, crashes, sharing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import KITHARA, run_cli
from kithara_cli.cache.store import CacheStore
from kithara_cli.media import build_ladder
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}
NO_CACHE = Faults(cache_control="no-cache")  # every use of a cached copy is checked
AES_KEY = bytes(range(16))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache-media")
    encode_file(root / "tone.mp3", 8.0, "mp3")
    encode_file(root / "long.mp3", 40.0, "mp3")  # > the 512 KB a play fetches before audio
    encode_file(root / "other.mp3", 5.0, "mp3", rate=32000)  # another version of tone.mp3
    build_ladder(root / "hls", 8.0, bitrates=(64_000,))
    build_ladder(root / "aes", 8.0, bitrates=(64_000,), aes_key=AES_KEY)
    (root / "big.bin").write_bytes(os.urandom(12_000_000))
    return root


def play(
    url: str, cache: Path, wav: Path, *extra: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "play",
        url,
        "--no-ui",
        "--output",
        f"wav:{wav}",
        "--cache-dir",
        str(cache),
        *extra,
        timeout=timeout,
        env=ENV,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ["tone.mp3", "hls/master.m3u8"])
def test_replay_revalidates_only_then_plays_offline_identically(
    media: Path, tmp_path: Path, name: str
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", NO_CACHE)  # else a fresh copy is used unasked (test_cache_fresh)
        url = srv.url(name)
        ok(play(url, cache, tmp_path / "first.wav"))
        first_requests = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "again.wav", "--events", str(tmp_path / "ev.jsonl")))
        again = srv.stats.requests()[first_requests:]
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "quiet.wav", "--offline"))
        assert srv.stats.requests()[n:] == []  # --offline never touches the network
    # Online replay: one conditional request per playlist (or per file), no media bytes.
    media_paths = [r.path for r in again if not r.path.endswith(".m3u8")]
    if name.endswith(".m3u8"):
        assert media_paths == [] and {r.path for r in again} <= {name, "hls/64k.m3u8"}
    else:
        assert [(r.path, r.range) for r in again] == [(name, "bytes=0-0")]
    events = (tmp_path / "ev.jsonl").read_text()
    assert '"from_cache": true' in events and "CacheRevalidated" in events
    # The server is gone: the cache alone plays it, to the same samples.
    offline = play(url, cache, tmp_path / "offline.wav", "--offline")
    ok(offline)
    first = (tmp_path / "first.wav").read_bytes()
    assert len(first) > 500_000
    assert (tmp_path / "again.wav").read_bytes() == first
    assert (tmp_path / "offline.wav").read_bytes() == first


def test_replay_fetches_only_what_is_not_cached(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        url = srv.url("long.mp3")
        srv.set_faults("long.mp3", Faults(rate_per_conn=400_000))
        ok(play(url, cache, tmp_path / "part.wav", "--length", "0.1"))  # quits mid-download
        srv.clear_faults()
        store = CacheStore(cache)
        _, pieces = store.entry(url)  # type: ignore[misc]
        store.close()
        head = 0  # the run of cached bytes from byte 0 (a tail probe may be cached apart)
        for piece in pieces:
            if piece.start <= head:
                head = max(head, piece.end)
        assert 0 < head < (media / "long.mp3").stat().st_size
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "whole.wav"))
        ranges = [r.range for r in srv.stats.requests()[n:]]
        ok(play(url, tmp_path / "none", tmp_path / "ref.wav", "--no-cache"))
    starts = [int(r[6:].split("-")[0]) for r in ranges if r and r != "bytes=0-0"]
    # The cached start (one run from byte 0) was not asked for again: only the rest.
    assert starts and min(starts) >= head, (head, ranges)
    assert (tmp_path / "whole.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()


def test_offline_says_what_is_missing(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        url = srv.url("tone.mp3")
    proc = play(url, tmp_path / "empty", tmp_path / "x.wav", "--offline")
    assert proc.returncode == 3
    lines = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and "not in the cache" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_changed_remote_is_refetched_never_spliced(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        ok(play(srv.url("other.mp3"), tmp_path / "ref", tmp_path / "v2.wav", "--no-cache"))
        url = srv.url("tone.mp3")
        srv.set_faults("*", NO_CACHE)
        ok(play(url, cache, tmp_path / "v1.wav"))
        swap = Faults(swap_from="tone.mp3", swap_to="other.mp3", cache_control="no-cache")
        srv.set_faults("tone.mp3", swap)
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "now.wav"))
        assert len([r for r in srv.stats.requests()[n:] if r.range != "bytes=0-0"]) >= 1
    v2 = (tmp_path / "v2.wav").read_bytes()
    assert v2 != (tmp_path / "v1.wav").read_bytes()
    assert (tmp_path / "now.wav").read_bytes() == v2
    ok(play(url, cache, tmp_path / "offline.wav", "--offline"))
    assert (tmp_path / "offline.wav").read_bytes() == v2  # the old version is gone


def test_a_new_etag_on_every_response_is_never_served_from_cache(
    media: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("tone.mp3", Faults(etag_per_request=True, cache_control="no-cache"))
        url = srv.url("tone.mp3")
        ok(play(url, cache, tmp_path / "a.wav"))
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "b.wav", "--events", str(tmp_path / "ev.jsonl")))
        full = [r for r in srv.stats.requests()[n:] if r.range != "bytes=0-0"]
    assert full, "the changed version must be fetched again"
    assert '"from_cache": true' not in (tmp_path / "ev.jsonl").read_text()
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()


def test_fetch_copies_what_play_cached_and_seeds_it(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        played = srv.url("tone.mp3")
        ok(play(played, cache, tmp_path / "p.wav"))
        fetched = srv.url("other.mp3")
        d = ["--cache-dir", str(cache), "-q"]
        ok(run_cli("fetch", fetched, "-o", str(tmp_path / "seed.mp3"), *d))
    out = tmp_path / "copy.mp3"
    ok(run_cli("fetch", played, "-o", str(out), "--offline", *d))
    assert out.read_bytes() == (media / "tone.mp3").read_bytes()
    ok(play(fetched, cache, tmp_path / "seeded.wav", "--offline"))


def test_two_players_share_one_cache(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(latency=0.02))
        procs = []
        for i, name in enumerate(["hls/master.m3u8", "hls/master.m3u8", "tone.mp3"]):
            wav = tmp_path / f"p{i}.wav"
            args = ["play", srv.url(name), "--no-ui", "--output", f"wav:{wav}"]
            procs.append(
                subprocess.Popen(
                    [*KITHARA, *args, "--cache-dir", str(cache)],
                    env={**os.environ, **ENV},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            assert "cache:" not in err  # none went without the cache (a locked index)
        urls = [srv.url("hls/master.m3u8"), srv.url("tone.mp3")]
    assert (tmp_path / "p0.wav").read_bytes() == (tmp_path / "p1.wav").read_bytes()
    db = sqlite3.connect(cache / "index.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    for url, wav in zip(urls, ["p0.wav", "p2.wav"], strict=True):
        ok(play(url, cache, tmp_path / "off.wav", "--offline"))
        assert (tmp_path / "off.wav").read_bytes() == (tmp_path / wav).read_bytes()


def test_kill_9_mid_write_leaves_nothing_served_corrupt(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    blob = (media / "big.bin").read_bytes()
    with MediaServer(media) as srv:
        srv.set_faults("big.bin", Faults(rate_per_conn=3_000_000))
        url = srv.url("big.bin")
        args = ["fetch", url, "-o", str(tmp_path / "big.out"), "-q", "-c", "4"]
        proc = subprocess.Popen(
            [*KITHARA, *args, "--cache-dir", str(cache)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        pieces = 0
        while time.monotonic() < deadline and pieces == 0:
            time.sleep(0.05)
            try:
                db = sqlite3.connect(cache / "index.sqlite3", timeout=5)
                pieces = db.execute("SELECT COUNT(*) FROM pieces").fetchone()[0]
                db.close()
            except sqlite3.Error:
                pass
        proc.send_signal(signal.SIGKILL)  # while the other parts are still being written
        proc.wait(timeout=10)
    assert pieces > 0
    store = CacheStore(cache)
    found = store.entry(url)
    assert found is not None
    _, stored = found
    assert stored
    for piece in stored:
        assert store.read(url, piece.start, piece.end) == blob[piece.start : piece.end]
    store.close()


def test_a_body_of_no_length_is_kept_once_it_ends(media: Path, tmp_path: Path) -> None:
    """A file served without a length is kept once its body has ended (session 16; an
    endless stream is not: tests/test_s16_cache_unsized.py)."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("tone.mp3", Faults(no_content_length=True, ignore_range=True))
        ok(play(srv.url("tone.mp3"), cache, tmp_path / "a.wav"))
        ok(play(srv.url("hls/master.m3u8"), cache, tmp_path / "b.wav"))
    store = CacheStore(cache)
    urls = {e.url for e in store.entries()}
    store.close()
    assert srv.url("tone.mp3") in urls
    assert srv.url("hls/master.m3u8") in urls


def test_a_damaged_cache_costs_the_network_not_the_play(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "index.sqlite3").write_bytes(b"not a database" * 100)
    with MediaServer(media) as srv:
        ok(play(srv.url("tone.mp3"), cache, tmp_path / "a.wav"))
        offline = play(srv.url("tone.mp3"), cache, tmp_path / "b.wav", "--offline")
    assert offline.returncode == 2 and "cannot open the cache" in offline.stderr


def test_eviction_spares_what_a_running_player_holds(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        ok(play(srv.url("tone.mp3"), cache, tmp_path / "old.wav"))  # cached, then idle
        srv.set_faults("long.mp3", Faults(rate_per_conn=150_000))
        playing = srv.url("long.mp3")
        args = ["play", playing, "--no-ui", "--output", "null", "--cache-dir", str(cache)]
        player = subprocess.Popen(
            [*KITHARA, *args],
            env={**os.environ, **ENV},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                store = CacheStore(cache)
                held = {e.url: e for e in store.entries()}.get(playing)
                store.close()
                if held is not None and held.pinned:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the running player's entry never appeared pinned")
            # Another run with a cap smaller than both entries: eviction runs.
            fetched = run_cli(
                "fetch", srv.url("other.mp3"), "-o", str(tmp_path / "o.mp3"), "-q",
                "--cache-dir", str(cache), "--cache-size", "1K",
            )  # fmt: skip
            ok(fetched)
            store = CacheStore(cache)
            urls = {e.url for e in store.entries()}
            store.close()
        finally:
            player.kill()
            player.wait(timeout=10)
    assert playing in urls  # pinned by a live player: kept over the cap
    assert srv.url("tone.mp3") not in urls  # idle: evicted, least recently used first


def test_aes_keys_never_reach_the_disk(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        url = srv.url("aes/master.m3u8")
        ok(play(url, cache, tmp_path / "a.wav"))
        key_requests = len([r for r in srv.stats.requests() if r.path.endswith("key.bin")])
    store = CacheStore(cache)
    urls = [e.url for e in store.entries()]
    store.close()
    assert key_requests >= 1 and any(u.endswith(".ts") for u in urls)
    assert not [u for u in urls if u.endswith("key.bin")]
    for path in cache.rglob("*"):
        if path.is_file():
            assert AES_KEY not in path.read_bytes(), path
    # Offline the key is not there: the encrypted stream cannot play, and says so.
    offline = play(url, cache, tmp_path / "b.wav", "--offline")
    assert offline.returncode != 0 and "not in the cache" in offline.stderr
