"""A weak ETag validates a cached copy (session 16).

Found here: a copy whose origin gave only a weak ETag (``W/"..."``, no Last-Modified: what
Express's ``res.send``, Rails' ``send_data`` and other dynamic origins send) was kept with no
validator at all. Once stale it "cannot be checked (no validator)" and the whole file was
downloaded again on every run, where a browser asks ``If-None-Match: W/"..."`` and gets a 304
(If-None-Match compares weakly, RFC 9110 section 13.1.2). Now the weak tag is kept and asked
with; a 304 confirms the copy, another tag means another version, fetched again. A weak tag is
still never sent as If-Range (which takes only a strong validator).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from test_s14_cache_origins import Answer, Origin, fetch, origin, song

__all__ = ["origin", "song"]  # the s14 origin fixtures, used here


def dynamic(tag: str, body: bytes | None = None) -> Callable[[dict[str, str], bytes], Answer]:
    """An origin handing out ``body`` (else its own) with a weak ETag, stale at once, and
    answering a matching If-None-Match with a 304."""

    def answer(headers: dict[str, str], own: bytes) -> Answer:
        if headers.get("if-none-match") == tag:
            return 304, {"ETag": tag, "Cache-Control": "max-age=0"}, b""
        return 200, {"ETag": tag, "Cache-Control": "max-age=0"}, own if body is None else body

    return answer


def test_a_weak_etag_is_asked_with_and_a_304_confirms_the_copy(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = dynamic('W/"1f4-abc"')
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    for _ in range(2):
        n = len(origin.seen)
        code, err = fetch(origin.url, out, cache)
        assert code == 0, err
        assert out.read_bytes() == origin.body
        asked = origin.seen[n:]
        assert [(s.status, s.headers.get("if-none-match")) for s in asked] == [
            (304, 'W/"1f4-abc"')
        ]  # one check, no download
        assert "no validator" not in err
    assert all("if-range" not in s.headers for s in origin.seen)


def test_another_weak_etag_is_another_version(origin: Origin, tmp_path: Path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = dynamic('W/"v1"')
    assert fetch(origin.url, out, cache)[0] == 0
    new = origin.body[::-1]  # other bytes, the same length
    origin.respond = dynamic('W/"v2"', new)
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    assert out.read_bytes() == new
    assert "changed on the server" in err
    n = len(origin.seen)
    assert fetch(origin.url, out, cache)[0] == 0
    assert [s.status for s in origin.seen[n:]] == [304] and out.read_bytes() == new
