"""The persistent cache's index never holds a URL's password, and such a URL still replays.

Found in session 13: ``kithara cache ls`` masked ``user:password@`` on the way out, but the
index file (``index.sqlite3``, beside the data) stored every URL as given, password and all.
Now the row's ``url`` (what ``cache ls`` shows) is stored masked, while the key stays the digest
of the full URL: another user's credentials are another entry (their server may serve them
other bytes), and the password is needed to find the entry, offline too. An index written by
an older kithara is masked in place when it is next opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.cache.paths import INDEX_NAME, entry_key
from kithara_cli.errors import OfflineMissError
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

PASSWORD = "c4che-pw-7x"
ENV = {"KITHARA_AUDIO_DEVICE": "none"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    encode_file(root / "song.mp3", 2.0, "mp3")
    return root


@pytest.fixture
def served(media: Path) -> Iterator[MediaServer]:
    with MediaServer(media) as srv:
        yield srv


def _with(url: str, password: str = PASSWORD) -> str:
    return url.replace("http://", f"http://alice:{password}@", 1)


def _index_holds_password(cache: Path) -> bool:
    """The password anywhere in the index's files (its journal too), live rows or not."""
    return any(PASSWORD.encode() in p.read_bytes() for p in cache.glob(INDEX_NAME + "*"))


def _fetch(url: str, out: Path, cache: Path, *args: str) -> None:
    proc = run_cli("fetch", url, "--out", str(out), "--cache-dir", str(cache), *args, env=ENV)
    assert proc.returncode == 0, proc.stderr


def _replays_offline(url: str, cache: Path, media: Path, tmp_path: Path) -> None:
    out = tmp_path / "offline.mp3"
    _fetch(url, out, cache, "--offline")
    assert out.read_bytes() == (media / "song.mp3").read_bytes()
    args = ("--offline", "--cache-dir", str(cache), "--output", "null", "--no-ui")
    played = run_cli("play", url, *args, "--length", "0.5", env=ENV, timeout=60)
    assert played.returncode == 0, played.stderr


def test_the_index_holds_no_password_and_the_url_replays_offline(
    served: MediaServer, media: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    url = _with(served.url("song.mp3"))
    _fetch(url, tmp_path / "o.mp3", cache)
    (seen,) = served.stats.seen("song.mp3")
    assert ("Authorization", "Basic YWxpY2U6YzRjaGUtcHctN3g=") in seen.headers  # sent as given
    served.stop()  # from here on, only the cache can answer

    assert not _index_holds_password(cache)
    listed = run_cli("cache", "ls", "--json", "--cache-dir", str(cache))
    assert [row["url"] for row in json.loads(listed.stdout)] == [
        f"http://***@127.0.0.1:{served.port}/song.mp3"
    ]
    _replays_offline(url, cache, media, tmp_path)
    assert not _index_holds_password(cache)


def test_other_credentials_are_another_entry(served: MediaServer, tmp_path: Path) -> None:
    """The key is the full URL's digest: bytes fetched as one user are not served to another
    (nor to no user at all), offline or not."""
    cache = tmp_path / "cache"
    _fetch(_with(served.url("song.mp3")), tmp_path / "o.mp3", cache)
    served.stop()
    for other in (_with(served.url("song.mp3"), "wrong"), served.url("song.mp3")):
        out = tmp_path / "other.mp3"
        args = ("--out", str(out), "--offline", "--cache-dir", str(cache))
        proc = run_cli("fetch", other, *args, env=ENV)
        assert proc.returncode == OfflineMissError.exit_code, proc.stderr
        assert "not in the cache" in proc.stderr and PASSWORD not in proc.stderr
        assert not out.exists()


def test_an_index_written_by_an_older_kithara_is_masked_on_opening(
    served: MediaServer, media: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    url = _with(served.url("song.mp3"))
    _fetch(url, tmp_path / "o.mp3", cache)
    served.stop()
    with sqlite3.connect(cache / INDEX_NAME) as db:  # the row as kithara <= s12 wrote it
        db.execute("UPDATE entries SET url=? WHERE key=?", (url, entry_key(url)))
    db.close()
    assert _index_holds_password(cache)

    listed = run_cli("cache", "ls", "--cache-dir", str(cache))
    assert listed.returncode == 0, listed.stderr
    assert f"http://***@127.0.0.1:{served.port}/song.mp3" in listed.stdout
    assert not _index_holds_password(cache)
    _replays_offline(url, cache, media, tmp_path)
