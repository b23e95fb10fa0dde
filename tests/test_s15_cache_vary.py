"""The cache honours ``Vary`` (RFC 9111 section 4.1), against origins that send it (session 15).

Found here: the cache ignored Vary. A response an origin chose by a request header
(``Vary: Accept-Language`` to a run sending ``--header 'Accept-Language: fr'``, ``Vary:
User-Agent`` to another ``--user-agent``) was given to later runs sending other values,
straight from the cache while fresh; a response saying ``Vary: *`` (reusable by no request)
was reused too. Now an entry keeps what its request sent of the headers its Vary names, and
is used only for a run sending the same; ``Vary: *`` is never kept. Headers every kithara run
sends alike (``Accept-Encoding: identity``, the CDN's everyday ``Vary: Accept-Encoding``) still
match: such files are reused as before.
"""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from test_s14_cache_origins import ENV, Answer, Origin, fetch, origin, song

__all__ = ["origin", "song"]  # the s14 origin fixtures, used here


def by_language(headers: dict[str, str], body: bytes) -> Answer:
    """A negotiating origin: French for who asks for it, else English; one ETag for both (as
    a careless origin gives), cacheable for an hour."""
    french = headers.get("accept-language", "").startswith("fr")
    said = {"ETag": '"v1"', "Cache-Control": "max-age=3600", "Vary": "Accept-Language"}
    return 200, said, body[::-1] if french else body


def test_a_response_chosen_by_a_header_is_not_given_to_a_run_sending_another(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = by_language
    french = ("--header", "Accept-Language: fr")
    code, err = fetch(origin.url, out, cache, *french)
    assert code == 0, err
    assert out.read_bytes() == origin.body[::-1]
    # Another run, no Accept-Language: asked, and given the English file whole (never
    # French bytes from the cache, never the two joined though their ETag is one).
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    assert len(origin.seen) > n
    assert out.read_bytes() == origin.body
    # Again without it: the English copy is fresh, used without a request.
    n = len(origin.seen)
    assert fetch(origin.url, out, cache)[0] == 0
    assert len(origin.seen) == n and out.read_bytes() == origin.body
    # Offline with French asked: the cache holds no French copy now.
    code, err = fetch(origin.url, out, cache, *french, "--offline")
    assert code != 0 and "not in the cache" in err and not out.exists()
    # The same header written otherwise (case, spacing) is the same request.
    origin.respond = lambda h, b: (
        200,
        {"ETag": '"v1"', "Cache-Control": "max-age=3600", "Vary": "accept-language, user-agent"},
        b,
    )
    assert fetch(origin.url, out, cache, "--header", "Accept-Language: de,  en")[0] == 0
    n = len(origin.seen)
    assert fetch(origin.url, out, cache, "--header", "accept-language:de, en")[0] == 0
    assert len(origin.seen) == n
    # Another --user-agent, which this Vary names too: asked.
    assert (
        fetch(
            origin.url, out, cache, "--user-agent", "other/1", "--header", "Accept-Language: de,en"
        )[0]
        == 0
    )
    assert len(origin.seen) > n


def test_vary_star_is_never_reused(origin: Origin, tmp_path: Path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (
        200,
        {"ETag": '"v1"', "Cache-Control": "max-age=3600", "Vary": "*"},
        b,
    )
    assert fetch(origin.url, out, cache)[0] == 0
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    assert len(origin.seen) > n and out.read_bytes() == origin.body
    proc = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV)
    assert origin.url not in proc.stdout  # nothing kept that no request may be given


def test_vary_on_what_every_run_sends_alike_is_reused(origin: Origin, tmp_path: Path) -> None:
    """nginx's ``gzip_vary``, most CDNs: ``Vary: Accept-Encoding`` on every file. kithara
    always asks for ``identity``: the copy is reused, as before."""
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (
        200,
        {"ETag": '"v1"', "Cache-Control": "max-age=3600", "Vary": "Accept-Encoding, Origin"},
        b,
    )
    assert fetch(origin.url, out, cache)[0] == 0
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    assert len(origin.seen) == n and out.read_bytes() == origin.body
    code, err = fetch(origin.url, out, cache, "--offline")
    assert code == 0, err


def test_a_replay_head_of_another_variant_is_not_played(tmp_path: Path) -> None:
    """A replay's head is looked up before the downloader exists (``play.head``): its parts
    are matched on their Vary too, or a French first second would stand before English audio."""
    import time

    from kithara_cli.cache.head import Head, HeadFormat, HeadPart, HeadVersion, save
    from kithara_cli.cache.hook import DiskCache
    from kithara_cli.cache.store import CacheStore, EntryMeta
    from kithara_cli.cache.vary import selecting

    url, root = "http://example.test/a.mp3", tmp_path / "cache"
    french = {"accept-language": "fr", "user-agent": "kithara"}
    english = {"user-agent": "kithara"}
    store = CacheStore(root)
    vary = selecting("Accept-Language", french)
    meta = EntryMeta(url, '"v1"', None, 4, True, "audio/mpeg", time.time() + 3600, 0, vary=vary)
    store.put(meta, 0, b"abcd")
    version = HeadVersion((HeadPart(url, '"v1"', None, 4),))
    save(store, Head(url, version, HeadFormat(48000, 2), bytes(800)))
    store.close()
    for sent, found in ((english, False), (french, True)):
        opened = CacheStore(root)
        cache = DiskCache(lambda s=opened: s, sent=lambda u, h=sent: h)
        try:
            assert (cache.replay_head(url) is not None) is found
            assert (cache.lookup(url) is not None) is found
        finally:
            cache.close()
