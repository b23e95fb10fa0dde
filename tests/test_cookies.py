"""``--cookies FILE`` and ``--cookie NAME=VALUE``: sent only where they belong, never logged.

Two real loopback servers stand for two hosts: ``127.0.0.1`` and ``127.0.0.2`` (both
loopback on Linux; to the cookie jar, two domains). Not ``localhost``: the standard library's
jar reads a dotless host as ``localhost.local`` and matches no cookie to it. The servers
record every request's headers; the test reads the Cookie each one received.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli, sha256
from kithara_cli.media import cached_ladder
from kithara_cli.server import MediaServer

SECRETS = (
    "s3cr3t-for-a",
    "s3cr3t-for-b-media",
    "s3cr3t-other-path",
    "s3cr3t-other-domain",
    "s3cr3t-expired",
)


def cookies_txt(path: Path) -> Path:
    """Netscape cookies.txt: one cookie per (domain, path) we want to tell apart."""
    far = "2147483647"  # 2038: not expired
    rows = [
        ("127.0.0.1", "FALSE", "/", "FALSE", far, "a_session", SECRETS[0]),
        ("127.0.0.2", "FALSE", "/sub", "FALSE", far, "b_session", SECRETS[1]),
        ("127.0.0.2", "FALSE", "/elsewhere", "FALSE", far, "c_session", SECRETS[2]),
        (".example.com", "TRUE", "/", "FALSE", far, "d_session", SECRETS[3]),
        ("127.0.0.1", "FALSE", "/", "FALSE", "1000", "e_session", SECRETS[4]),  # 1970: expired
    ]
    text = "# Netscape HTTP Cookie File\n" + "".join("\t".join(r) + "\n" for r in rows)
    path.write_text(text)
    return path


@pytest.fixture
def two_hosts(blob_root: Path) -> Iterator[tuple[MediaServer, MediaServer]]:
    """``a`` (127.0.0.1) redirects ``/go`` to ``b`` (127.0.0.2) ``/sub/song.mp3``."""
    with MediaServer(blob_root) as a, MediaServer(blob_root, host="127.0.0.2") as b:
        target = b.url("sub/song.mp3")
        a.add_route("go", lambda path, query, now: (302, {"Location": target}, b""))
        yield a, b


def cookie_of(server: MediaServer, path: str) -> list[str | None]:
    return [seen.header("Cookie") for seen in server.stats.seen(path)]


def test_cookies_go_only_to_matching_domain_and_path_across_a_redirect(
    two_hosts: tuple[MediaServer, MediaServer], blob_root: Path, tmp_path: Path
) -> None:
    a, b = two_hosts
    jar = cookies_txt(tmp_path / "cookies.txt")
    out = tmp_path / "song.mp3"
    events = tmp_path / "events.jsonl"
    proc = run_cli(
        "fetch", "--cookies", str(jar), "-v", "--events", str(events), "-o", str(out),
        "-c", "2", a.url("go"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sha256(out) == sha256(blob_root / "sub" / "song.mp3")
    # a (127.0.0.1, path /go): only its own cookie
    assert cookie_of(a, "go") and all(c == f"a_session={SECRETS[0]}" for c in cookie_of(a, "go"))
    # b (127.0.0.2, /sub/...): the /sub cookie; not a's, not /elsewhere's, not example.com's
    sent_b = cookie_of(b, "sub/song.mp3")
    assert sent_b and all(c == f"b_session={SECRETS[1]}" for c in sent_b), sent_b
    # never logged: not in -v's lines, not in stdout, not in the events
    logged = proc.stderr + proc.stdout + events.read_text()
    assert "kithara: [" in proc.stderr  # -v did log requests
    for secret in SECRETS:
        assert secret not in logged


def test_cookie_option_goes_to_the_urls_host_only(
    two_hosts: tuple[MediaServer, MediaServer], tmp_path: Path
) -> None:
    a, b = two_hosts
    events = tmp_path / "events.jsonl"
    proc = run_cli(
        "fetch", "--cookie", "token=v4lue-only-for-a", "-v", "--events", str(events),
        "-o", str(tmp_path / "x.mp3"), a.url("go"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert cookie_of(a, "go") and all(c == "token=v4lue-only-for-a" for c in cookie_of(a, "go"))
    assert cookie_of(b, "sub/song.mp3") and not any(cookie_of(b, "sub/song.mp3"))
    assert "v4lue-only-for-a" not in proc.stderr + events.read_text()


def test_cookies_reach_every_hls_request(tmp_path: Path) -> None:
    ladder = cached_ladder("cookie-ladder-6s", 6.0, bitrates=(64_000,), segment_seconds=2.0)
    jar = tmp_path / "cookies.txt"
    jar.write_text(
        f"# HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t{SECRETS[0]}\n"
    )  # a session cookie
    with MediaServer(ladder.out_dir) as server:
        proc = run_cli(
            "fetch", "--cookies", str(jar), "-q", "-o", str(tmp_path / "a.ts"),
            server.url(ladder.master.name),
        )  # fmt: skip
        seen = server.stats.seen()
    assert proc.returncode == 0, proc.stderr
    assert len(seen) >= 4  # master, media playlist, segments
    assert all(s.header("Cookie") == f"sid={SECRETS[0]}" for s in seen)


def test_no_cookies_no_cookie_header(server: MediaServer, tmp_path: Path) -> None:
    proc = run_cli("fetch", "-q", "-o", str(tmp_path / "s.bin"), server.url("small.bin"))
    assert proc.returncode == 0, proc.stderr
    assert server.stats.seen() and not any(s.header("Cookie") for s in server.stats.seen())


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (None, "no such file"),
        (f"not\ta\tcookie\tline {SECRETS[3]}\n", "not a Netscape cookies.txt file (line 1)"),
        (
            f"# Netscape HTTP Cookie File\n\nnot\ta\tcookie {SECRETS[3]}\n",
            "not a Netscape cookies.txt file (line 3)",
        ),
    ],
)
def test_bad_cookies_file_is_one_line_exit_2(
    server: MediaServer, tmp_path: Path, content: str | None, expect: str
) -> None:
    jar = tmp_path / "cookies.txt"
    if content is not None:
        jar.write_text(content)
    proc = run_cli("fetch", "--cookies", str(jar), "-o", str(tmp_path / "o"), server.url("x"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], proc.stderr
    assert SECRETS[3] not in proc.stderr  # the bad line is named, never quoted
    assert not server.stats.requests()  # refused before any request


def test_bad_cookie_option(server: MediaServer, tmp_path: Path) -> None:
    proc = run_cli("fetch", "--cookie", "novalue", "-o", str(tmp_path / "o"), server.url("x"))
    assert proc.returncode == 2 and "NAME=VALUE" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
