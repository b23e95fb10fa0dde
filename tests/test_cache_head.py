"""A replay from the cache starts with the head kept beside the entry (``cache.head``,
``play.head``): the same samples as the first play, before PyAV loads, and never before
another version's audio."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.audio.output import NullSink
from kithara_cli.audio.ring import PcmRing
from kithara_cli.cache.head import (
    Head,
    HeadFormat,
    HeadPart,
    HeadVersion,
    decode,
    encode,
    load,
    save,
)
from kithara_cli.cache.hook import DiskCache
from kithara_cli.cache.paths import head_key
from kithara_cli.cache.store import CacheStore, EntryMeta
from kithara_cli.media import build_ladder
from kithara_cli.media.encode import encode_file
from kithara_cli.play.head import play_head
from kithara_cli.server import Faults, MediaServer
from test_cache_play import play as play_to_wav

ENV = {"KITHARA_AUDIO_DEVICE": "none"}
CDN = Faults(cache_control="public, max-age=3600")  # fresh for an hour: used unasked
NO_CACHE = Faults(cache_control="no-cache")
HEAD_NOTE = "played from the cached head"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("head-media")
    encode_file(root / "tone.mp3", 6.0, "mp3")  # 44.1 kHz: resampled to the WAV's 48 kHz
    encode_file(root / "short.mp3", 0.5, "mp3", rate=48000)  # shorter than a head
    encode_file(root / "other.mp3", 3.0, "mp3", rate=32000)  # another version of tone.mp3
    build_ladder(root / "hls", 6.0, bitrates=(64_000, 128_000))
    build_ladder(root / "fmp4", 6.0, bitrates=(64_000,), segment_type="fmp4", segment_seconds=0.5)
    build_ladder(root / "aes", 4.0, bitrates=(64_000,), aes_key=bytes(range(16)))
    return root


def play(url: str, cache: Path, wav: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = play_to_wav(url, cache, wav, *extra)
    assert proc.returncode == 0, proc.stderr
    return proc


def notes(events: Path) -> list[str]:
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    return [e["message"] for e in lines if e["event"] == "Notice"]


@pytest.mark.parametrize("name", ["tone.mp3", "short.mp3"])
def test_a_fresh_or_offline_replay_starts_from_the_head_with_the_same_samples(
    media: Path, tmp_path: Path, name: str
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url(name)
        first = play(url, cache, tmp_path / "first.wav", "--events", str(tmp_path / "a.jsonl"))
        assert HEAD_NOTE not in first.stderr  # nothing kept yet: played as ever
        n = len(srv.stats.requests())
        play(url, cache, tmp_path / "again.wav", "--events", str(tmp_path / "b.jsonl"))
        assert srv.stats.requests()[n:] == []  # fresh: no request at all
    play(url, cache, tmp_path / "offline.wav", "--offline", "--events", str(tmp_path / "c.jsonl"))
    assert not any(HEAD_NOTE in m for m in notes(tmp_path / "a.jsonl"))
    assert any(HEAD_NOTE in m for m in notes(tmp_path / "b.jsonl"))
    assert any(HEAD_NOTE in m for m in notes(tmp_path / "c.jsonl"))
    reference = (tmp_path / "first.wav").read_bytes()
    assert len(reference) > 90_000
    assert (tmp_path / "again.wav").read_bytes() == reference
    assert (tmp_path / "offline.wav").read_bytes() == reference
    # `cache ls` shows the resource, not its head; `cache rm` takes both.
    listing = run_cli("cache", "ls", "--json", "--cache-dir", str(cache), env=ENV)
    assert [e["url"] for e in json.loads(listing.stdout)] == [url]
    store = CacheStore(cache)
    assert store.entry(head_key(url)) is not None
    store.close()
    rm = run_cli("cache", "rm", url, "--cache-dir", str(cache), env=ENV)
    assert rm.returncode == 0, rm.stderr
    store = CacheStore(cache)
    assert store.entry(head_key(url)) is None and store.entry(url) is None
    assert store.total_size() == 0
    store.close()


@pytest.mark.parametrize("name", ["hls/master.m3u8", "fmp4/master.m3u8"])
def test_an_hls_replay_starts_from_its_head_with_the_same_samples(
    media: Path, tmp_path: Path, name: str
) -> None:
    """The head of HLS is its first segment's audio (at most a second: the fMP4 ladder's
    segments are 0.5 s), kept under the master URL with the variant it came from; the replay
    starts on that variant, so it is the same audio, fresh and offline."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url(name)
        play(url, cache, tmp_path / "first.wav")
        n = len(srv.stats.requests())
        play(url, cache, tmp_path / "again.wav", "--events", str(tmp_path / "b.jsonl"))
        assert srv.stats.requests()[n:] == []  # fresh: no request at all
    play(url, cache, tmp_path / "offline.wav", "--offline", "--events", str(tmp_path / "c.jsonl"))
    heads = [m for m in notes(tmp_path / "b.jsonl") + notes(tmp_path / "c.jsonl") if HEAD_NOTE in m]
    assert len(heads) == 2
    covered = [float(m.split("the first ")[1].split(" s")[0]) for m in heads]
    assert covered == [0.51, 0.51] if name.startswith("fmp4") else covered == [1.0, 1.0]
    reference = (tmp_path / "first.wav").read_bytes()
    assert len(reference) > 500_000
    assert (tmp_path / "again.wav").read_bytes() == reference
    assert (tmp_path / "offline.wav").read_bytes() == reference


def test_an_encrypted_hls_stream_keeps_no_head(media: Path, tmp_path: Path) -> None:
    """Its keys never reach the disk, so neither does its audio in the clear."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url("aes/master.m3u8")
        play(url, cache, tmp_path / "a.wav")
        play(url, cache, tmp_path / "b.wav", "--events", str(tmp_path / "ev.jsonl"))
    assert not any(HEAD_NOTE in m for m in notes(tmp_path / "ev.jsonl"))
    store = CacheStore(cache)
    try:
        assert store.entry(head_key(url)) is None
        assert store.total_size() > 0  # the segments themselves are cached (encrypted)
    finally:
        store.close()


def test_a_changed_remote_plays_the_new_audio_without_the_old_head(
    media: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        play(srv.url("other.mp3"), tmp_path / "ref", tmp_path / "v2.wav", "--no-cache")
        url = srv.url("tone.mp3")
        srv.set_faults("*", CDN)
        play(url, cache, tmp_path / "v1.wav")  # its head is kept
        with sqlite3.connect(cache / "index.sqlite3") as db:  # the hour has passed
            db.execute("UPDATE entries SET fresh_until=0 WHERE url=?", (url,))
        swap = Faults(swap_from="tone.mp3", swap_to="other.mp3", cache_control="no-cache")
        srv.set_faults("tone.mp3", swap)
        play(url, cache, tmp_path / "now.wav", "--events", str(tmp_path / "ev.jsonl"))
    assert not any(HEAD_NOTE in m for m in notes(tmp_path / "ev.jsonl"))
    v2 = (tmp_path / "v2.wav").read_bytes()
    assert v2 != (tmp_path / "v1.wav").read_bytes()
    assert (tmp_path / "now.wav").read_bytes() == v2
    # Offline, the new version's own head (kept by that play) starts it: still v2 only.
    play(url, cache, tmp_path / "off.wav", "--offline", "--events", str(tmp_path / "o.jsonl"))
    assert any(HEAD_NOTE in m for m in notes(tmp_path / "o.jsonl"))
    assert (tmp_path / "off.wav").read_bytes() == v2


def test_a_no_cache_servers_replay_is_identical_with_or_without_its_head(
    media: Path, tmp_path: Path
) -> None:
    """The head is used only once the server confirmed the entry in this run (a 304 that came
    before the head was looked at) or not at all: the audio is the same either way."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", NO_CACHE)
        url = srv.url("tone.mp3")
        play(url, cache, tmp_path / "a.wav")
        play(url, cache, tmp_path / "b.wav", "--events", str(tmp_path / "ev.jsonl"))
    assert "CacheRevalidated" in (tmp_path / "ev.jsonl").read_text()  # it had to ask
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()


def test_a_corrupt_head_is_ignored(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url("tone.mp3")
        play(url, cache, tmp_path / "a.wav")
    store = CacheStore(cache)
    found = store.entry(head_key(url))
    assert found is not None
    piece = found[1][0]
    store.close()
    path = cache / "data" / piece.file[:2] / piece.file
    data = bytearray(path.read_bytes())
    for at in range(len(data) - 1000, len(data) - 900):  # in the PCM
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    play(url, cache, tmp_path / "b.wav", "--offline", "--events", str(tmp_path / "ev.jsonl"))
    assert not any(HEAD_NOTE in m for m in notes(tmp_path / "ev.jsonl"))
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()


def test_a_replay_from_a_start_position_plays_no_head(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url("tone.mp3")
        play(url, cache, tmp_path / "whole.wav")
        play(url, tmp_path / "none", tmp_path / "ref.wav", "--no-cache", "--start", "5")
        play(url, cache, tmp_path / "b.wav", "--start", "5", "--events", str(tmp_path / "e.jsonl"))
    assert not any(HEAD_NOTE in m for m in notes(tmp_path / "e.jsonl"))
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()


def test_cache_clear_removes_heads(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url("tone.mp3")
        play(url, cache, tmp_path / "a.wav")
    assert run_cli("cache", "clear", "--cache-dir", str(cache), env=ENV).returncode == 0
    store = CacheStore(cache)
    assert store.entry(head_key(url)) is None and store.total_size() == 0
    store.close()
    assert not [p for p in (cache / "data").rglob("*") if p.is_file()]


def test_first_audio_of_a_head_replay_goes_out_before_pyav_is_imported(
    media: Path, tmp_path: Path
) -> None:
    """In the process itself: the moment PyAV's import begins (an import hook) is after the
    first sample went to the output (PlaybackStarted.ts, the ring's monotonic first read)."""
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url("tone.mp3")
        play(url, cache, tmp_path / "a.wav")
        events = tmp_path / "ev.jsonl"
        argv = ["kithara", "play", url, "--no-ui", "--output", f"wav:{tmp_path / 'b.wav'}"]
        argv += ["--cache-dir", str(cache), "--events", str(events)]
        code = (
            "import sys, time, atexit\n"
            "seen = []\n"
            "class Hook:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'av' and not seen:\n"
            "            seen.append(time.monotonic())\n"
            "        return None\n"
            "sys.meta_path.insert(0, Hook())\n"
            "atexit.register(lambda: print('av-import-at', seen[0] if seen else -1))\n"
            f"sys.argv = {argv!r}\n"
            "from kithara_cli.cli import main\n"
            "main()\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, **ENV, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 0, proc.stderr
    av_at = float(proc.stdout.split("av-import-at")[1].split()[0])
    started = [json.loads(s) for s in events.read_text().splitlines() if "PlaybackStarted" in s]
    assert av_at > 0 and started
    assert started[0]["ts"] < av_at < time.monotonic()
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()


# --- the cache's side, in process --------------------------------------------------------


def _store_with_entry(tmp_path: Path, url: str, etag: str) -> CacheStore:
    store = CacheStore(tmp_path / "c")
    meta = EntryMeta(url, etag, None, 4, True, "audio/mpeg", time.time() + 3600, 0)
    store.put(meta, 0, b"abcd")
    return store


def _version(url: str, etag: str | None, last_modified: str | None = None) -> HeadVersion:
    return HeadVersion((HeadPart(url, etag, last_modified, 4),))


def test_a_head_of_another_version_is_not_given(tmp_path: Path) -> None:
    url = "http://example.test/a.mp3"
    store = _store_with_entry(tmp_path, url, '"v2"')
    fmt = HeadFormat(48000, 2)
    pcm = bytes(8 * 100)
    save(store, Head(url, _version(url, '"v1"'), fmt, pcm))
    cache = DiskCache(lambda: store, offline=True)
    try:
        assert cache.replay_head(url) is None  # made from v1, the entry is v2
        save(store, Head(url, _version(url, '"v2"'), fmt, pcm))
        head = cache.replay_head(url)
        assert head is not None and head.pcm == pcm and head.format == fmt
        assert cache.replay_head("http://example.test/b.mp3") is None
    finally:
        cache.close()


def test_an_hls_head_needs_every_part_at_its_version(tmp_path: Path) -> None:
    """A head names the playlist, init and segment it came from: one missing or of another
    version, and no head (the master URL it is kept under need not be cached at all)."""
    master = "http://example.test/master.m3u8"
    parts = ["http://example.test/v1.m3u8", "http://example.test/init.mp4"]
    store = _store_with_entry(tmp_path, parts[0], '"p"')
    meta = EntryMeta(parts[1], '"i"', None, 4, True, "video/mp4", time.time() + 3600, 0)
    store.put(meta, 0, b"abcd")
    fmt = HeadFormat(48000, 2)
    versions = tuple(HeadPart(u, e, None, 4) for u, e in zip(parts, ['"p"', '"i"'], strict=True))
    cache = DiskCache(lambda: store, offline=True)
    try:
        save(store, Head(master, HeadVersion(versions, parts[0]), fmt, bytes(80)))
        head = cache.replay_head(master)
        assert head is not None and head.version.variant == parts[0]
        stale = (versions[0], HeadPart(parts[1], '"old"', None, 4))
        save(store, Head(master, HeadVersion(stale, parts[0]), fmt, bytes(80)))
        assert cache.replay_head(master) is None
        gone = (*versions, HeadPart("http://example.test/s1.m4s", None, None, 4))
        save(store, Head(master, HeadVersion(gone, parts[0]), fmt, bytes(80)))
        assert cache.replay_head(master) is None
    finally:
        cache.close()


class _OneHead:
    def __init__(self, head: Head) -> None:
        self.head = head

    def replay_head(self, url: str) -> Head | None:
        return self.head if url == self.head.url else None


def test_a_head_made_for_another_output_format_does_not_play() -> None:
    url = "http://example.test/a.mp3"
    ring = PcmRing(48000, 2)
    sink = NullSink(ring, 48000)
    opened: list[int] = []

    def open_output() -> tuple[PcmRing, NullSink]:
        opened.append(1)
        return ring, sink

    other = Head(url, _version(url, None), HeadFormat(44100, 2), bytes(8 * 441))
    assert play_head(_OneHead(other), url, open_output) is None
    assert ring.frames_available == 0 and opened == [1]
    assert play_head(_OneHead(other), "http://example.test/b.mp3", open_output) is None
    assert opened == [1]  # no head: the output is not opened for it
    same = Head(url, _version(url, None), HeadFormat(48000, 2), bytes(8 * 480))
    assert play_head(_OneHead(same), url, open_output, "fr") is None  # made with no --audio
    start = play_head(_OneHead(same), url, open_output)
    try:
        assert start is not None and start.frames == 480 and start.variant is None
    finally:
        sink.stop()


def test_a_head_round_trips_and_a_damaged_payload_is_refused() -> None:
    head = Head(
        "http://x.test/a", _version("http://x.test/a", None, "Mon"), HeadFormat(44100, 2), bytes(80)
    )
    assert decode(encode(head)) == head
    assert decode(encode(head)[:-4]) is None  # short
    assert decode(b"junk" + encode(head)) is None
    assert decode(encode(Head(head.url, head.version, head.format, bytes(81)))) is None
    hls = Head(
        head.url, HeadVersion(head.version.parts, "http://x.test/v.m3u8"), head.format, bytes(80)
    )
    assert decode(encode(hls)) == hls


def test_load_finds_no_head_where_none_was_kept(tmp_path: Path) -> None:
    store = _store_with_entry(tmp_path, "http://example.test/a.mp3", '"v"')
    try:
        assert load(store, "http://example.test/a.mp3") is None
    finally:
        store.close()
