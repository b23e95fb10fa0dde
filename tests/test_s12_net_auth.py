"""``http://user:password@host/...``: what curl, mpv and yt-dlp do with a URL's credentials.

Found by the session 12 network review: the credentials were never sent. A URL with user info
is one httpx must build, and kithara sent that request straight to its transport, which is
past httpx's auth step; only a same-origin redirect (followed by the client) carried them.
Every file, playlist and segment behind basic auth was a 401 to kithara.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import assert_clean_failure, fetch_cli, run_cli
from kithara_cli.server import MediaServer

USER, PASSWORD = "alice", "s3cr3t-pw"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def _auth_headers(srv: MediaServer, path: str) -> list[str | None]:
    return [seen.header("Authorization") for seen in srv.stats.seen(path)]


@pytest.fixture
def two_servers(blob_root: Path) -> Iterator[tuple[MediaServer, MediaServer]]:
    with MediaServer(blob_root) as one, MediaServer(blob_root) as other:
        yield one, other


def test_basic_auth_from_the_url_is_sent_on_every_request(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.bin"
    proc = fetch_cli(_with_credentials(server.url("small.bin")), out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    sent = _auth_headers(server, "small.bin")
    assert sent and all(value == BASIC for value in sent), sent


def test_basic_auth_reaches_hls_playlists_and_segments(tmp_path: Path) -> None:
    from kithara_cli.media import cached_ladder

    ladder = cached_ladder("cookie-ladder-6s", 6.0, bitrates=(64_000,), segment_seconds=2.0)
    with MediaServer(ladder.master.parent) as srv:
        proc = fetch_cli(_with_credentials(srv.url(ladder.master.name)), tmp_path / "o.ts")
        assert proc.returncode == 0, proc.stderr
        seen = srv.stats.seen()
    assert len(seen) >= 3  # master, media playlist, segments
    assert all(s.header("Authorization") == BASIC for s in seen), [
        (s.record.path, s.header("Authorization")) for s in seen
    ]


def test_credentials_follow_a_same_origin_redirect_but_not_another_host(
    two_servers: tuple[MediaServer, MediaServer], tmp_path: Path
) -> None:
    one, other = two_servers
    one.add_route("here", lambda _p, _q, _n: (302, {"Location": "/small.bin"}, b""))
    one.add_route("away", lambda _p, _q, _n: (302, {"Location": other.url("small.bin")}, b""))
    assert fetch_cli(_with_credentials(one.url("here")), tmp_path / "a").returncode == 0
    assert _auth_headers(one, "here") == [BASIC]
    assert set(_auth_headers(one, "small.bin")) == {BASIC}

    proc = fetch_cli(_with_credentials(one.url("away")), tmp_path / "b")
    assert proc.returncode == 0, proc.stderr
    assert _auth_headers(one, "away") == [BASIC]
    away = _auth_headers(other, "small.bin")
    assert away and all(value is None for value in away), away


@pytest.mark.parametrize("command", ["fetch", "play"])
def test_a_401_is_one_line_without_the_password(
    server: MediaServer, tmp_path: Path, command: str
) -> None:
    server.add_route(
        "private.mp3", lambda _p, _q, _n: (401, {"WWW-Authenticate": 'Basic realm="x"'}, b"no")
    )
    url = _with_credentials(server.url("private.mp3"))
    out = tmp_path / "private.mp3"
    if command == "fetch":
        proc = run_cli("fetch", url, "--out", str(out), "-v", timeout=60)
    else:
        proc = run_cli("play", url, "--output", "null", "--no-ui", "-v", timeout=60)
    assert proc.returncode == 4, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "401" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout
    assert _auth_headers(server, "private.mp3") == [BASIC]
    if command == "fetch":
        assert_clean_failure(
            run_cli("fetch", url, "--out", str(out), timeout=60), out, 4
        )  # and without -v: exactly one line, nothing at --out
