"""An entry stored with cookies is scoped by the cookies sent to its URL, not by the
``--cookies`` file (session 15).

Found here: session 14 scoped entries by a digest of the whole cookies file. A browser's
export tool rewrites cookies.txt on every export (other order, other comments, other sites'
cookies changing every minute): each run of the same user, sending the very same cookie to
the file's server, missed every entry of the run before, and ``--offline`` found nothing.
Now the scope is the Cookie header the jar sends to that URL (pairs in any order): another
file with the same cookies for this server finds the entry; a file holding no cookie for it
shares entries with runs sending none; another value is still another entry.
"""

from __future__ import annotations

from pathlib import Path

from test_s14_cache_origins import Answer, Origin, fetch, origin, song

__all__ = ["origin", "song"]  # the s14 origin fixtures, used here

MAGIC = "# Netscape HTTP Cookie File\n"


def cookies_txt(path: Path, lines: list[tuple[str, str, str]], comment: str = "") -> Path:
    """A cookies.txt as an export tool writes it: (domain, name, value) per line."""
    rows = [f"{d}\t{str(d.startswith('.')).upper()}\t/\tFALSE\t0\t{n}\t{v}" for d, n, v in lines]
    path.write_text(MAGIC + comment + "\n".join(rows) + "\n")
    return path


def members(headers: dict[str, str], body: bytes) -> Answer:
    cookie = headers.get("cookie", "")
    if "member=yes" not in cookie:
        return 401, {}, b""
    return 200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, body


def test_a_rewritten_cookies_file_with_the_same_cookies_finds_the_entry(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = members
    first = cookies_txt(
        tmp_path / "a.txt",
        [("127.0.0.1", "member", "yes"), ("127.0.0.1", "lang", "en"), (".other.test", "t", "1")],
    )
    code, err = fetch(origin.url, out, cache, "--cookies", str(first))
    assert code == 0, err
    assert origin.seen[-1].headers["cookie"] in ("member=yes; lang=en", "lang=en; member=yes")
    # Exported again: another order, a comment, another site's cookie changed.
    again = cookies_txt(
        tmp_path / "b.txt",
        [(".other.test", "t", "2"), ("127.0.0.1", "lang", "en"), ("127.0.0.1", "member", "yes")],
        comment="# exported by a browser extension, again\n",
    )
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache, "--cookies", str(again))
    assert code == 0, err
    assert len(origin.seen) == n and out.read_bytes() == origin.body  # fresh, unasked
    code, err = fetch(origin.url, out, cache, "--cookies", str(again), "--offline")
    assert code == 0, err
    # Another value for this server: another entry (asked, and refused).
    other = cookies_txt(tmp_path / "c.txt", [("127.0.0.1", "member", "no")])
    code, err = fetch(origin.url, out, cache, "--cookies", str(other))
    assert code == 4 and "401" in err
    assert len(origin.seen) == n + 1


def test_a_cookies_file_with_nothing_for_the_server_shares_the_plain_entry(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, b)
    assert fetch(origin.url, out, cache)[0] == 0
    elsewhere = cookies_txt(tmp_path / "x.txt", [(".other.test", "session", "s3cret")])
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache, "--cookies", str(elsewhere))
    assert code == 0, err
    assert len(origin.seen) == n and out.read_bytes() == origin.body
    assert all("cookie" not in s.headers for s in origin.seen)
