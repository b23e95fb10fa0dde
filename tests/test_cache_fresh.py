"""RFC 9111 freshness in the persistent cache: a fresh copy plays without asking the server,
a stale one is asked before any of its audio plays, and a changed remote is never spliced."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.cache.store import CacheStore
from kithara_cli.dl.freshness import MUST_REVALIDATE, NO_CACHE, freshness
from kithara_cli.errors import RemoteChangedError
from kithara_cli.media import build_ladder
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}
CDN = "public, max-age=3600"
YEAR = 365 * 24 * 3600.0


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fresh-media")
    encode_file(root / "tone.mp3", 6.0, "mp3")
    encode_file(root / "long.mp3", 40.0, "mp3")  # > the 512 KB a play fetches before audio
    encode_file(root / "other.mp3", 5.0, "mp3", rate=32000)  # another version of it
    build_ladder(root / "hls", 6.0, bitrates=(64_000,))
    shutil.copy(root / "tone.mp3", root / "old.mp3")
    then = time.time() - YEAR
    os.utime(root / "old.mp3", (then, then))  # last modified a year ago
    return root


def play(url: str, cache: Path, wav: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["play", url, "--no-ui", "--output", f"wav:{wav}", "--cache-dir", str(cache)]
    return run_cli(*args, *extra, timeout=60, env=ENV)


def ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr


def events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["tone.mp3", "hls/master.m3u8"])
def test_a_fresh_copy_plays_without_a_request(media: Path, tmp_path: Path, name: str) -> None:
    cache, ev = tmp_path / "cache", tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(cache_control=CDN))
        url = srv.url(name)
        ok(play(url, cache, tmp_path / "first.wav"))
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "again.wav", "--events", str(ev)))
        assert srv.stats.requests()[n:] == []  # max-age: not even a conditional request
    checks = [e for e in events(ev) if e["event"] == "CacheRevalidated"]
    assert checks and all(e["asked"] is False and e["fresh"] is True for e in checks)
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()


def test_heuristic_freshness_follows_last_modified(media: Path, tmp_path: Path) -> None:
    """No Cache-Control: a file last modified a year ago is fresh (a tenth of its age, capped
    at a day); one modified just now is not, and is asked about first."""
    cache = tmp_path / "cache"
    shutil.copy(media / "tone.mp3", tmp_path / "new.mp3")
    shutil.copy(media / "old.mp3", tmp_path / "old.mp3")
    os.utime(tmp_path / "old.mp3", ((media / "old.mp3").stat().st_mtime,) * 2)
    with MediaServer(tmp_path) as srv:
        for name in ("old.mp3", "new.mp3"):
            ok(play(srv.url(name), cache, tmp_path / f"{name}.wav"))
        time.sleep(1.1)  # the new file's heuristic lifetime (a tenth of ~1 s) has passed
        n = len(srv.stats.requests())
        for name in ("old.mp3", "new.mp3"):
            ok(play(srv.url(name), cache, tmp_path / f"{name}.again.wav"))
        asked = [(r.path, r.range) for r in srv.stats.requests()[n:]]
    assert asked == [("new.mp3", "bytes=0-0")]


def test_a_stale_copy_is_revalidated_before_any_sound(media: Path, tmp_path: Path) -> None:
    cache, ev = tmp_path / "cache", tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(cache_control="no-cache", latency=0.2))
        url = srv.url("tone.mp3")
        ok(play(url, cache, tmp_path / "first.wav"))
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "again.wav", "--events", str(ev)))
        conditional = srv.stats.seen()[n:]
    assert [s.record.range for s in conditional] == ["bytes=0-0"]
    assert conditional[0].header("If-None-Match")
    seen = events(ev)
    checked = next(e for e in seen if e["event"] == "CacheRevalidated")
    assert checked["asked"] is True and checked["status"] == 304 and checked["fresh"] is True
    served = [e for e in seen if e["event"] == "FirstByte" and e["from_cache"]]
    started = next(e for e in seen if e["event"] == "PlaybackStarted")
    # Not one cached byte reaches the decoder before the server has confirmed the version.
    assert served and float(checked["ts"]) <= min(float(e["ts"]) for e in served)  # type: ignore[arg-type]
    assert float(served[0]["ts"]) <= float(started["ts"])  # type: ignore[arg-type]


def test_a_fresh_prefix_of_a_changed_remote_is_never_spliced(media: Path, tmp_path: Path) -> None:
    """Fresh by max-age, the cached start plays unasked; the rest comes back as another
    version: refused (exit 3, one line), the stored version forgotten, the next play whole."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        url = srv.url("long.mp3")
        srv.set_faults("long.mp3", Faults(rate_per_conn=400_000, cache_control=CDN))
        ok(play(url, cache, tmp_path / "part.wav", "--length", "0.1"))  # quits mid-download
        ok(play(srv.url("other.mp3"), tmp_path / "ref", tmp_path / "v2.wav", "--no-cache"))
        swap = Faults(swap_from="long.mp3", swap_to="other.mp3", cache_control=CDN)
        srv.set_faults("long.mp3", swap)
        changed = play(url, cache, tmp_path / "spliced.wav")
        assert changed.returncode == RemoteChangedError.exit_code, changed.stderr
        assert "Traceback" not in changed.stderr
        ok(play(url, cache, tmp_path / "now.wav"))
    assert (tmp_path / "now.wav").read_bytes() == (tmp_path / "v2.wav").read_bytes()


def test_must_revalidate_is_never_played_stale(media: Path, tmp_path: Path) -> None:
    """The server is away: a stale copy plays (the cache is all there is), unless the server
    said must-revalidate."""
    cache = tmp_path / "cache"
    urls = {}
    for directive in ("max-age=0", "max-age=0, must-revalidate"):
        with MediaServer(media) as srv:
            srv.set_faults("*", Faults(cache_control=directive))
            urls[directive] = srv.url("tone.mp3")
            ok(play(urls[directive], cache, tmp_path / "first.wav"))
    ok(play(urls["max-age=0"], cache, tmp_path / "stale.wav", "--retries", "1"))
    strict = play(urls["max-age=0, must-revalidate"], cache, tmp_path / "x.wav", "--retries", "1")
    assert strict.returncode == 3 and "Traceback" not in strict.stderr
    assert (tmp_path / "stale.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()


def test_no_store_is_never_kept(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(cache_control="no-store"))
        ok(play(srv.url("tone.mp3"), cache, tmp_path / "a.wav"))
    store = CacheStore(cache)
    assert store.entries() == []
    store.close()


def test_freshness_rules() -> None:
    now = 1_000_000.0
    date = "Mon, 12 Jan 1970 13:46:40 GMT"  # == now
    assert freshness({"cache-control": "max-age=60"}, 200, received=now).fresh_until == now + 60
    aged = freshness({"cache-control": "max-age=60", "age": "50"}, 200, received=now)
    assert aged.fresh_until == now + 10
    expires = {"date": date, "expires": "Mon, 12 Jan 1970 13:47:40 GMT"}
    assert freshness(expires, 200, received=now).fresh_until == now + 60
    assert not freshness({"expires": "0"}, 200, received=now).is_fresh(now)  # bad: past
    modified = {"date": date, "last-modified": "Mon, 12 Jan 1970 11:00:00 GMT"}
    guess = freshness(modified, 206, received=now)
    assert guess.heuristic and guess.fresh_until == pytest.approx(now + 1000.0)
    assert freshness(modified, 206, received=now, heuristic=False).fresh_until is None
    assert freshness({"cache-control": "no-store"}, 200, received=now).no_store
    no_cache = freshness({"cache-control": "no-cache, max-age=60"}, 200, received=now)
    assert no_cache.directives & NO_CACHE and not no_cache.is_fresh(now)
    assert freshness({"pragma": "no-cache"}, 200, received=now).directives & NO_CACHE
    strict = freshness({"cache-control": "max-age=60, must-revalidate"}, 200, received=now)
    assert strict.directives & MUST_REVALIDATE and strict.is_fresh(now + 59)
    assert not strict.is_fresh(now + 61)
    assert not freshness({"cache-control": "max-age=x"}, 200, received=now).is_fresh(now)


def test_a_304_renews_the_freshness_it_carries(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        url = srv.url("tone.mp3")
        srv.set_faults("*", Faults(cache_control="max-age=0"))  # stale as soon as stored
        ok(play(url, cache, tmp_path / "a.wav"))
        srv.set_faults("*", Faults(cache_control=CDN))
        n = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "b.wav"))  # asked: 304, now with max-age=3600
        m = len(srv.stats.requests())
        ok(play(url, cache, tmp_path / "c.wav"))  # fresh: not asked
        requests = srv.stats.requests()
    assert [(r.range, r.status) for r in requests[n:m]] == [("bytes=0-0", 304)]
    assert requests[m:] == []
    assert (tmp_path / "c.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()
