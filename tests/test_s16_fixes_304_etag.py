"""A 304 naming another version does not confirm the cached copy (session 16).

Found here: a check of a stale cached copy (If-None-Match "v1") answered 304 with ETag "v2"
(an origin or CDN edge that answers any condition with 304 and its current tag) was taken as
confirmation: the old bytes were written out. RFC 9111 section 4.3.4: a 304 whose strong
validator is not the stored response's selects no stored response; it must not be used. Now
the copy is dropped and the file fetched anew, and a line says so.
"""

from __future__ import annotations

from pathlib import Path

from test_s14_cache_origins import Answer, Origin, fetch, origin, song

__all__ = ["origin", "song"]  # the s14 origin fixtures, used here


def test_a_304_with_another_strong_etag_fetches_the_file_again(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    old = origin.body
    origin.respond = lambda h, b: (200, {"ETag": '"v1"', "Cache-Control": "max-age=0"}, old)
    assert fetch(origin.url, out, cache)[0] == 0
    new = old[::-1]  # other bytes, the same length

    def edge(headers: dict[str, str], body: bytes) -> Answer:
        if "if-none-match" in headers:  # 304 to any condition, with the current tag
            return 304, {"ETag": '"v2"', "Cache-Control": "max-age=0"}, b""
        return 200, {"ETag": '"v2"', "Cache-Control": "max-age=0"}, new

    origin.respond = edge
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache, "--verbose")
    assert code == 0, err
    assert out.read_bytes() == new
    assert origin.seen[n].status == 304  # asked, answered 304, then fetched
    assert "changed on the server" in err


def test_a_304_with_the_same_tag_weakened_still_confirms(origin: Origin, tmp_path: Path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (200, {"ETag": 'W/"v1"', "Cache-Control": "max-age=0"}, b)
    assert fetch(origin.url, out, cache)[0] == 0
    # nginx weakens a tag on a gzipped 200 but not on its 304: the same value, strong.
    origin.respond = lambda h, b: (304, {"ETag": '"v1"'}, b"")
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    assert [s.status for s in origin.seen[n:]] == [304]
    assert out.read_bytes() == origin.body
