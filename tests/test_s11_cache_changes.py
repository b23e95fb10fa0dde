"""A remote file that changes between plays, as servers without validators serve it: the
replay never splices the cached bytes of the old version with the new one, and says why it
fetches the file again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from kithara_cli.cache.store import CacheStore
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}
BARE = Faults(no_validators=True)  # no ETag, no Last-Modified: a plain object store, a CGI


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """Two versions of one WAV file, of the same length: the second is the first negated."""
    root = tmp_path_factory.mktemp("changes-media")
    one = encode_file(root / "v1.wav", 12.0, "wav").read_bytes()
    body = one.index(b"data") + 8  # the samples start here (after any LIST chunk)
    pcm = np.frombuffer(one[body:], dtype="<i2").astype(np.int32)
    two = one[:body] + (-pcm).clip(-32768, 32767).astype("<i2").tobytes()
    assert len(one) == len(two) and one != two
    return one, two


def play(url: str, cache: Path | None, wav: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    where = ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    args = ["play", url, "--no-ui", "--output", f"wav:{wav}", *where, *extra]
    proc = run_cli(*args, timeout=60, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def cached_run_from_zero(cache: Path, url: str) -> int:
    store = CacheStore(cache)
    found = store.entry(url)
    store.close()
    assert found is not None
    end = 0
    for piece in found[1]:
        if piece.start <= end:
            end = max(end, piece.end)
    return end


def test_a_same_length_change_without_validators_is_never_spliced(
    versions: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """Before: the cached start of version 1 was served (a 206 of the same length was taken
    for a confirmation) and the rest fetched from version 2: a file of both."""
    one, two = versions
    root, cache = tmp_path / "srv", tmp_path / "cache"
    root.mkdir()
    (root / "song.wav").write_bytes(one)
    with MediaServer(root) as srv:
        url = srv.url("song.wav")
        srv.set_faults("song.wav", Faults(no_validators=True, rate_per_conn=1_500_000))
        play(url, cache, tmp_path / "part.wav", "--length", "0.1")  # quits mid-download
        assert 0 < cached_run_from_zero(cache, url) < len(one)
        (root / "song.wav").write_bytes(two)  # the same length, other bytes
        srv.set_faults("song.wav", BARE)
        play(url, None, tmp_path / "ref.wav")
        replay = play(url, cache, tmp_path / "replay.wav")
        out = tmp_path / "copy.wav"
        fetched = run_cli("fetch", url, "-o", str(out), "--cache-dir", str(cache), "-q")
    assert fetched.returncode == 0, fetched.stderr
    assert out.read_bytes() == two
    assert (tmp_path / "replay.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()
    said = [line for line in replay.stderr.splitlines() if "cache:" in line]
    assert len(said) == 1 and "cannot be checked" in said[0], replay.stderr


def test_a_changed_remote_says_it_is_fetched_again(
    versions: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """Before: the stale copy was dropped and the new version fetched without a word."""
    one, two = versions
    root, cache, ev = tmp_path / "srv", tmp_path / "cache", tmp_path / "ev.jsonl"
    root.mkdir()
    (root / "song.wav").write_bytes(one)
    with MediaServer(root) as srv:
        url = srv.url("song.wav")
        srv.set_faults("song.wav", Faults(cache_control="no-cache"))
        play(url, cache, tmp_path / "v1.wav")
        (root / "song.wav").write_bytes(two)  # a new ETag and Last-Modified
        replay = play(url, cache, tmp_path / "v2.wav", "--events", str(ev))
        play(url, None, tmp_path / "ref.wav")
    assert (tmp_path / "v2.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()
    notes = [
        e["message"]
        for e in map(json.loads, ev.read_text().splitlines())
        if e["event"] == "Notice" and "cache:" in e["message"]
    ]
    assert len(notes) == 1 and "changed on the server" in notes[0], notes
    assert "changed on the server" in replay.stderr


def test_a_fresh_copy_without_validators_still_plays_unasked(
    versions: tuple[bytes, bytes], tmp_path: Path
) -> None:
    """max-age is the server's word: a copy it calls fresh needs no validator to be used."""
    one, _ = versions
    root, cache = tmp_path / "srv", tmp_path / "cache"
    root.mkdir()
    (root / "song.wav").write_bytes(one)
    with MediaServer(root) as srv:
        url = srv.url("song.wav")
        srv.set_faults("song.wav", Faults(no_validators=True, cache_control="max-age=600"))
        play(url, cache, tmp_path / "a.wav")
        n = len(srv.stats.requests())
        replay = play(url, cache, tmp_path / "b.wav")
        assert srv.stats.requests()[n:] == []
    said = [x for x in replay.stderr.splitlines() if "cache:" in x and "cached head" not in x]
    assert said == [], replay.stderr
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()
