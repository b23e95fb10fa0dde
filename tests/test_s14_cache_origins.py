"""The persistent cache against origins that behave as real ones do (session 14).

Found here:
- a response to a request that carried credentials (``--header 'Authorization: ...'``,
  ``--cookie``) was stored under its URL alone, so a later run sending none (or other ones) was
  given those bytes straight from the cache, without a request while fresh (and offline).
  RFC 9111 section 3.5 forbids a shared cache that; the cache here is shared by every run of
  the user, whatever credentials each sends, and the same URL already got one entry per
  ``user:password@`` (session 13). Now an entry is stored under the credentials sent: other
  ones, or none, find another entry; ``kithara cache rm URL`` removes them all.
- a 304 answering a check that carried no validator (a copy stored without ETag or
  Last-Modified: only ``Range: bytes=0-0`` is asked) confirmed the copy: a broken origin or
  proxy that says 304 to anything kept stale bytes playing. Such a copy can be confirmed by
  no answer (``dl.cached``); a 304 to it is now no confirmation either: it is fetched again.

The origins are small stdlib servers on 127.0.0.1 (MediaServer has no such knobs).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file

ENV = {"KITHARA_AUDIO_DEVICE": "none"}
TOKEN = "Bearer s14-token"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int = 0


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Origin:
    """An origin whose answer ``respond(request headers, body)`` decides; Range is honoured on
    a 200 (as a 206)."""

    body: bytes
    respond: Callable[[dict[str, str], bytes], Answer]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


def _handler(origin: Origin) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.path, headers)
            origin.seen.append(seen)
            status, extra, body = origin.respond(headers, origin.body)
            out = dict(extra)
            wanted = headers.get("range", "")
            if status == 200 and wanted.startswith("bytes="):
                first, _, last = wanted[6:].partition("-")
                a = int(first)
                b = min(int(last) if last else len(body) - 1, len(body) - 1)
                out["Content-Range"] = f"bytes {a}-{b}/{len(body)}"
                status, body = 206, body[a : b + 1]
            if status in (200, 206):
                out["Accept-Ranges"] = "bytes"
            seen.status = status
            self.send_response(status)
            for name, value in out.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("origins")
    encode_file(root / "song.mp3", 2.0, "mp3")
    return (root / "song.mp3").read_bytes()


@pytest.fixture
def origin(song: bytes) -> Iterator[Origin]:
    made = Origin(song, lambda h, b: (200, {}, b))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(made))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    made.url = f"http://127.0.0.1:{server.server_port}/song.mp3"
    try:
        yield made
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str, out: Path, cache: Path, *args: str) -> tuple[int, str]:
    if out.exists():
        out.unlink()
    proc = run_cli("fetch", url, "--out", str(out), "--cache-dir", str(cache), *args, env=ENV)
    return proc.returncode, proc.stderr


def members_only(headers: dict[str, str], body: bytes) -> Answer:
    """A members' feed: the token or its cookie gets the file (cacheable for an hour)."""
    if headers.get("authorization") != TOKEN and "member=yes" not in headers.get("cookie", ""):
        return 401, {"WWW-Authenticate": "Bearer"}, b""
    return 200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, body


@pytest.mark.parametrize(
    "credentials", [("--header", f"Authorization: {TOKEN}"), ("--cookie", "member=yes")]
)
def test_a_response_to_credentials_is_not_given_to_a_run_without_them(
    origin: Origin, tmp_path: Path, credentials: tuple[str, str]
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = members_only
    code, err = fetch(origin.url, out, cache, *credentials)
    assert code == 0, err
    assert out.read_bytes() == origin.body
    # Without the credentials: asked, refused (exit 4, HTTP 4xx), nothing written.
    code, err = fetch(origin.url, out, cache)
    assert code == 4, err
    assert "401" in err and not out.exists()
    assert origin.seen[-1].status == 401
    # Offline without them: the cache holds nothing for such a run.
    code, err = fetch(origin.url, out, cache, "--offline")
    assert code != 0 and "not in the cache" in err and not out.exists()
    # With them again: fresh, from the cache without a request.
    n = len(origin.seen)
    code, err = fetch(origin.url, out, cache, *credentials)
    assert code == 0, err
    assert out.read_bytes() == origin.body and len(origin.seen) == n


def test_other_credentials_are_another_entry_and_cache_rm_takes_every_one(
    origin: Origin, tmp_path: Path
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = members_only
    assert fetch(origin.url, out, cache, "--header", f"Authorization: {TOKEN}")[0] == 0
    code, err = fetch(origin.url, out, cache, "--header", "Authorization: Bearer other")
    assert code == 4 and "401" in err
    origin.respond = lambda h, b: (200, {"ETag": '"v1"', "Cache-Control": "max-age=3600"}, b)
    assert fetch(origin.url, out, cache)[0] == 0  # a public copy beside the member's
    proc = run_cli("cache", "rm", origin.url, "--cache-dir", str(cache), env=ENV)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("cache", "ls", "--cache-dir", str(cache), env=ENV)
    assert origin.url not in proc.stdout
    n = len(origin.seen)
    assert fetch(origin.url, out, cache, "--header", f"Authorization: {TOKEN}")[0] == 0
    assert len(origin.seen) > n  # the member's copy went too


def test_a_304_to_a_check_without_validators_confirms_nothing(
    origin: Origin, tmp_path: Path
) -> None:
    """A proxy that answers 304 to anything: a copy with no validator is fetched again."""
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    origin.respond = lambda h, b: (200, {"Cache-Control": "max-age=0"}, b)  # no validator
    assert fetch(origin.url, out, cache)[0] == 0
    new = origin.body[::-1]  # other bytes, same length

    def broken(headers: dict[str, str], body: bytes) -> Answer:
        if "range" in headers and headers["range"] == "bytes=0-0":
            return 304, {"Cache-Control": "max-age=3600"}, b""  # no condition was asked
        return 200, {"Cache-Control": "max-age=0"}, new

    origin.respond = broken
    code, err = fetch(origin.url, out, cache)
    assert code == 0, err
    checks = [s for s in origin.seen if s.headers.get("range") == "bytes=0-0"]
    assert checks and all(
        "if-none-match" not in s.headers and "if-modified-since" not in s.headers for s in checks
    )
    assert out.read_bytes() == new


YEAR_AGO = "Sat, 07 Dec 2024 10:00:00 GMT"  # a Last-Modified that gives a day's heuristic


@pytest.mark.parametrize("said", ["no-cache", "max-age=0, must-revalidate"])
def test_a_304_that_omits_cache_control_keeps_the_stored_directives(
    origin: Origin, tmp_path: Path, said: str
) -> None:
    """RFC 9111 section 4.3.4: a 304 updates the stored headers it carries, the others stay.
    An origin answering 304 with its ETag alone (many do) turned a no-cache file into one
    served unasked for a day (the Last-Modified heuristic), and dropped must-revalidate."""
    cache, out = tmp_path / "cache", tmp_path / "song.mp3"
    stored = {"ETag": '"v1"', "Last-Modified": YEAR_AGO, "Cache-Control": said}

    def origin_answer(headers: dict[str, str], body: bytes) -> Answer:
        if headers.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, stored, body

    origin.respond = origin_answer
    assert fetch(origin.url, out, cache)[0] == 0
    assert fetch(origin.url, out, cache)[0] == 0  # asked: 304 with no Cache-Control
    n = len(origin.seen)
    assert fetch(origin.url, out, cache)[0] == 0
    asked = origin.seen[n:]
    assert [s.status for s in asked] == [304]  # still asked: never served unchecked
    assert out.read_bytes() == origin.body
