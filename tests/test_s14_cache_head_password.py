"""A cached head names its URLs as the index does: ``user:password@`` as ``***@``.

Left in session 13: the index masked a URL's password, but the head kept beside an entry
(``cache.head``: the first second of decoded audio, and the URLs it was decoded from) held
the play URL, its parts' and its variant's URLs in the clear inside the cache's data files.
They are written masked now; loading gives ``***@`` back the play URL's own userinfo, so a
replay with the password still starts from the head, and one with other credentials does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kithara_cli.cache.head import load
from kithara_cli.cache.store import CacheStore
from kithara_cli.media import build_ladder
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from test_cache_head import CDN, HEAD_NOTE, notes, play

PASSWORD = "h3ad-pw-5q"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("head-pw")
    encode_file(root / "tone.mp3", 3.0, "mp3")
    build_ladder(root / "hls", 4.0, bitrates=(64_000, 128_000))
    return root


def _holds_password(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]


@pytest.mark.parametrize("name", ["tone.mp3", "hls/master.m3u8"])
def test_a_head_holds_no_password_and_a_replay_with_it_starts_from_the_head(
    media: Path, tmp_path: Path, name: str
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url(name).replace("http://", f"http://alice:{PASSWORD}@", 1)
        play(url, cache, tmp_path / "first.wav")
    assert _holds_password(cache) == []
    store = CacheStore(cache)
    head = load(store, url)
    assert head is not None and head.url == url  # the userinfo given back on loading
    assert all(PASSWORD in part.url for part in head.version.parts)
    other = load(store, url.replace(PASSWORD, "wrong"))
    assert other is None  # another URL's head key: nothing
    store.close()
    events = tmp_path / "b.jsonl"
    play(url, cache, tmp_path / "offline.wav", "--offline", "--events", str(events))
    assert any(HEAD_NOTE in m for m in notes(events))
    assert (tmp_path / "offline.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()
