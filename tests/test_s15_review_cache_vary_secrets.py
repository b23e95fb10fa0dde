"""A response that varies on credentials keeps no credential in the cache's index.

``Vary: Cookie`` is what most web frameworks send on every response of a logged-in site, and
``Vary: Authorization`` what an API behind a token sends. The cache keeps what the request
sent of the headers a Vary names (``cache.vary``), to give the entry only to runs sending the
same; it kept them as sent: the session cookie of ``--cookie``/``--cookies`` and the bearer
token of ``--header 'Authorization: ...'`` written in clear into index.sqlite, which
outlives the run (a URL's ``user:password@`` is masked there for that reason). Now such a
header is kept as a digest: matched the same way, never readable.
"""

from __future__ import annotations

from pathlib import Path

from test_s14_cache_origins import Answer, Origin, fetch, origin, song

__all__ = ["origin", "song"]  # the s14 origin fixtures, used here

COOKIE = "sid=s15-review-cookie-secret"
TOKEN = "Bearer s15-review-token-secret"


def by_credentials(headers: dict[str, str], body: bytes) -> Answer:
    said = {"ETag": '"v1"', "Cache-Control": "max-age=3600", "Vary": "Cookie, Authorization"}
    return 200, said, body


def _stored(cache: Path) -> bytes:
    return b"".join(p.read_bytes() for p in cache.iterdir() if p.name.startswith("index"))


def test_cookie_and_token_named_by_vary_are_not_kept_in_clear(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = by_credentials
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        f"# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tfile-{COOKIE}\n"
    )
    code, err = fetch(
        origin.url, out, cache, "--cookie", COOKIE, "--header", f"Authorization: {TOKEN}"
    )
    assert code == 0, err
    code, err = fetch(origin.url, tmp_path / "b.mp3", cache / "two", "--cookies", str(cookies))
    assert code == 0, err
    stored = _stored(cache) + _stored(cache / "two")
    assert b"vary" in stored  # (the index was written)
    for secret in (COOKIE.split("=")[1], TOKEN.split()[1]):
        assert secret.encode() not in stored
    # Still matched: the same credentials reuse the copy (fresh: no request); others ask.
    n = len(origin.seen)
    code, err = fetch(
        origin.url, out, cache, "--cookie", COOKIE, "--header", f"Authorization: {TOKEN}"
    )
    assert code == 0, err
    assert len(origin.seen) == n and out.read_bytes() == origin.body
    code, err = fetch(
        origin.url, out, cache, "--cookie", "sid=other", "--header", f"Authorization: {TOKEN}"
    )
    assert code == 0, err
    assert len(origin.seen) > n
