"""``kithara fetch`` against servers whose headers contradict themselves or the file on disk.

Each case is a real loopback server (``kithara_cli.server``: a route handler where the lie is in
the headers, fault knobs where it is in the file serving) and the CLI in a subprocess. What must
hold: the output is one whole version, or one clean error line with a documented code and
nothing at --out; never bytes the server's own headers do not place.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import json
import random
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

import hls_fixtures
from conftest import assert_clean_failure, fetch_cli
from kithara_cli.dl.validate import parse_content_range
from kithara_cli.file.state import part_paths
from kithara_cli.net.errors import parse_retry_after
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

SIZE = 600_000
DATA = random.Random(1010).randbytes(SIZE)
ETAG = '"s10-one"'
Handler = tuple[int, dict[str, str], bytes]


fetch = fetch_cli


# --- a 206 whose body runs past the end of its Content-Range ---------------------------------


def test_bytes_past_a_206s_content_range_are_never_written(
    server: MediaServer, tmp_path: Path
) -> None:
    """The first answer says ``bytes 0-999`` and sends 1000 file bytes, then zeros to the size
    (its Content-Length counts them); later answers are whole 200s of the same version.

    Was: the zeros were written as bytes 1000 onwards, exit 0 (a spliced file). Now only the
    bytes the Content-Range places are kept, and the rest comes from the next request."""
    calls = [0]

    def handler(path: str, query: dict[str, str], now: float) -> Handler:
        calls[0] += 1
        if calls[0] == 1:
            body = DATA[:1000] + bytes(SIZE - 1000)
            return 206, {"Content-Range": f"bytes 0-999/{SIZE}", "ETag": ETAG}, body
        return 200, {"ETag": ETAG}, DATA

    server.add_route("overrun.bin", handler)
    out = tmp_path / "out.bin"
    proc = fetch(server.url("overrun.bin"), out, "-q", "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA
    assert calls[0] >= 2


def test_a_206_that_always_overruns_its_range_fails_cleanly(
    server: MediaServer, tmp_path: Path
) -> None:
    """Every answer is ``bytes 0-999`` with zeros after: nothing past byte 1000 can be placed,
    so the fetch ends in one error line (exit 3, as a body cut short), not in a file."""

    def handler(path: str, query: dict[str, str], now: float) -> Handler:
        body = DATA[:1000] + bytes(SIZE - 1000)
        return 206, {"Content-Range": f"bytes 0-999/{SIZE}", "ETag": ETAG}, body

    server.add_route("overrun.bin", handler)
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(server.url("overrun.bin"), out, "-q", "-c", "1"), out, code=3)


# --- 416 on resume: the file shrank under the .part ------------------------------------------


def _leave_partial(out: Path, url: str, total: int, have: int, etag: str | None) -> None:
    """A .part and state as an interrupted run leaves them: ``have`` bytes of ``total``."""
    part, state = part_paths(out)
    part.write_bytes(bytes(total))
    state.write_text(
        json.dumps(
            {
                "url": url,
                "total": total,
                "etag": etag,
                "last_modified": None,
                "ranges": [[0, have]],
                "kind": "progressive",
                "extra": {},
                "version": 1,
            }
        )
    )


@pytest.mark.parametrize(
    ("etag", "faults"),
    [
        ('"an-older-version"', Faults(ignore_if_range=True)),
        (None, Faults(no_validators=True)),
    ],
    ids=["if-range-ignored", "no-validators"],
)
def test_a_416_on_resume_after_the_file_shrank_starts_over(
    server: MediaServer, tmp_path: Path, etag: str | None, faults: Faults
) -> None:
    """The .part holds 2 MB of a 3 MB file; the file is now 600 KB, so the resume's range
    starts past its end: 416. Was: exit 4 ("HTTP 416") and the .part deleted, the user left
    to run it again. Now the 416 proves another version: the fetch starts over, whole."""
    (server.root / "shrunk.bin").write_bytes(DATA)
    server.set_faults("shrunk.bin", faults)
    out = tmp_path / "out.bin"
    url = server.url("shrunk.bin")
    _leave_partial(out, url, 3_000_000, 2_000_000, etag)
    proc = fetch(url, out, "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA
    assert "starting over" in proc.stderr
    assert server.stats.requests("shrunk.bin")[0].status == 416
    part, state = part_paths(out)
    assert not part.exists() and not state.exists()


# --- a redirect to a scheme kithara does not fetch ---------------------------------------------


def _redirect(target: str):
    def handler(path: str, query: dict[str, str], now: float) -> Handler:
        return 302, {"Location": target}, b""

    return handler


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/a.mp3"])
@pytest.mark.parametrize("name", ["moved.mp3", "moved.m3u8"], ids=["progressive", "hls"])
def test_a_redirect_to_another_scheme_is_4_and_names_where(
    server: MediaServer, tmp_path: Path, target: str, name: str
) -> None:
    """Was: exit 2 'invalid URL <the user's URL>: Request URL is missing an 'http://' or
    'https://' protocol', blaming a URL that was fine. Now: a redirect not followed, exit 4
    (as too many redirects), the line naming the target."""
    server.add_route(name, _redirect(target))
    out = tmp_path / "out.bin"
    proc = fetch(server.url(name), out, "-q")
    assert_clean_failure(proc, out, code=4)
    assert f"redirected to {target}, not an http(s) URL" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_segment_redirected_to_a_file_url_is_4(server: MediaServer, tmp_path: Path) -> None:
    playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXTINF:2.0,\nseg.ts\n#EXT-X-ENDLIST\n"
    )
    server.add_route("list.m3u8", lambda path, query, now: (200, {}, playlist.encode()))
    server.add_route("seg.ts", _redirect("file:///etc/passwd"))
    out = tmp_path / "out.ts"
    proc = fetch(server.url("list.m3u8"), out, "-q")
    assert_clean_failure(proc, out, code=4)
    assert "redirected to file:///etc/passwd" in proc.stderr


def test_the_refused_location_reaches_the_terminal_neutralised(
    server: MediaServer, tmp_path: Path
) -> None:
    """The Location is the server's text: a C1 CSI (U+009B) in it must not reach stderr."""
    server.add_route("moved.mp3", _redirect("ftp://x/\u009b31mred\u009b2J"))
    out = tmp_path / "out.mp3"
    proc = fetch(server.url("moved.mp3"), out, "-q")
    assert_clean_failure(proc, out, code=4)
    assert "\u009b" not in proc.stderr and "\x1b" not in proc.stderr
    assert "redirected to ftp://x/" in proc.stderr and "31mred" in proc.stderr


def test_a_later_hop_to_a_file_url_is_4_too(server: MediaServer, tmp_path: Path) -> None:
    """The second hop of a chain is followed by httpx's client, not the direct path."""
    server.add_route("hop.mp3", _redirect("/moved.mp3"))
    server.add_route("moved.mp3", _redirect("file:///etc/passwd"))
    out = tmp_path / "out.mp3"
    proc = fetch(server.url("hop.mp3"), out, "-q")
    assert_clean_failure(proc, out, code=4)
    assert "redirected to file:" in proc.stderr and "/etc/passwd" in proc.stderr


# --- a 2xx that is not the file ----------------------------------------------------------------


@pytest.mark.parametrize(("status", "body"), [(204, b""), (202, b"queued, come back later")])
def test_a_success_status_without_the_file_is_not_saved(
    server: MediaServer, tmp_path: Path, status: int, body: bytes
) -> None:
    """Was: exit 0 and a 0-byte file for a 204 (or the 202's note saved as the media). A GET's
    file comes only in a 200, 203 or 206: any other 2xx is exit 4, nothing at --out."""
    server.add_route("nothing.mp3", lambda path, query, now: (status, {}, body))
    out = tmp_path / "out.mp3"
    proc = fetch(server.url("nothing.mp3"), out, "-q")
    assert_clean_failure(proc, out, code=4)
    assert f"HTTP {status}" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- a segment resumed from a server that sends ranges in chunks -------------------------------


@contextlib.contextmanager
def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A stdlib server on loopback for what the package's server will not send (it frames
    every body itself): its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _ChunkedRanges(http.server.BaseHTTPRequestHandler):
    """A CDN that serves any range at most CHUNK bytes at a time (Content-Range says so, as
    RFC 9110 allows), and whose first whole-file answer for a segment is cut a third of the
    way in. The package's server answers every range whole, hence this small one."""

    protocol_version = "HTTP/1.1"
    CHUNK = 8_000
    files: ClassVar[dict[str, bytes]] = {}
    cut: ClassVar[set[str]] = set()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        data = self.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        asked = self.headers.get("Range")
        if asked is None or not asked.startswith("bytes="):
            self.send_response(200)
            self.send_header("ETag", '"seg"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.path in self.cut:
                self.cut.discard(self.path)
                self.wfile.write(data[: len(data) // 3])
                self.close_connection = True
                return
            self.wfile.write(data)
            return
        first_text, _, last_text = asked[6:].partition("-")
        first = int(first_text)
        end = min(len(data), int(last_text) + 1 if last_text else len(data), first + self.CHUNK)
        self.send_response(206)
        self.send_header("ETag", '"seg"')
        self.send_header("Content-Range", f"bytes {first}-{end - 1}/{len(data)}")
        self.send_header("Content-Length", str(end - first))
        self.end_headers()
        self.wfile.write(data[first:end])


def test_a_cut_segment_resumed_in_short_ranges_is_whole(
    hls_media: hls_fixtures.HlsMedia, tmp_path: Path
) -> None:
    """Was: the resume's first 206 (8 KB of the 2/3 still missing) ended the segment: exit 0
    and a short segment in the output. Now each short 206 is resumed on to the segment's end."""
    segment = hls_media.ts.segments[1][0].read_bytes()
    assert len(segment) > 3 * _ChunkedRanges.CHUNK
    playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXTINF:2.0,\nseg.ts\n#EXT-X-ENDLIST\n"
    )
    _ChunkedRanges.files = {"list.m3u8": playlist.encode(), "seg.ts": segment}
    _ChunkedRanges.cut = {"/seg.ts"}
    out = tmp_path / "out.ts"
    with _serve(_ChunkedRanges) as base:
        proc = fetch(f"{base}/list.m3u8", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == segment


# --- Transfer-Encoding and Content-Length both -------------------------------------------------


class _ChunkedWithLength(http.server.BaseHTTPRequestHandler):
    """A chunked body of the whole file under a Content-Length of its first 1000 bytes: the
    message is framed by the chunks (RFC 9112 6.3: Transfer-Encoding overrides it)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Content-Length", "1000")
        self.send_header("ETag", ETAG)
        self.end_headers()
        for i in range(0, SIZE, 65536):
            piece = DATA[i : i + 65536]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")


def test_content_length_beside_chunked_is_not_the_length(tmp_path: Path) -> None:
    """Was: exit 0 and a 1000-byte file: the body was read by its chunks, but its length
    taken from the Content-Length the chunks override."""
    out = tmp_path / "out.bin"
    with _serve(_ChunkedWithLength) as base:
        proc = fetch(f"{base}/both.bin", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA


# --- an empty file -------------------------------------------------------------------------------


def test_an_empty_file_is_fetched_empty_not_a_416(server: MediaServer, tmp_path: Path) -> None:
    """The first request asks ``Range: bytes=0-``, which an empty file cannot satisfy: a
    correct server answers 416 'bytes */0'. Was: exit 4 'HTTP 416'. It is the file, empty."""
    (server.root / "empty.mp3").write_bytes(b"")
    out = tmp_path / "out.mp3"
    proc = fetch(server.url("empty.mp3"), out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == b""
    assert [r.status for r in server.stats.requests("empty.mp3")] == [416]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp3"]


# --- a segment that is a web page ----------------------------------------------------------------

PORTAL = b"<!DOCTYPE html><html><head><title>Hotel Wi-Fi</title></head><body>Log in</body></html>"


@pytest.mark.parametrize("index", [0, 4], ids=["first", "middle"])
def test_a_segment_that_is_a_web_page_is_not_saved_as_audio(
    hls_server: MediaServer, tmp_path: Path, index: int
) -> None:
    """A captive portal (or a CDN's error page) answering 200 text/html for one segment.
    Was: the page written into the .ts between the audio, exit 0. Playback already refused
    such a segment ('not audio we can read'); fetch now does the same: exit 5, nothing."""
    name = f"ts/128k_{index:05d}.ts"
    hls_server.add_route(
        name, lambda path, query, now: (200, {"Content-Type": "text/html"}, PORTAL)
    )
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/128k.m3u8"), out, "-q")
    assert_clean_failure(proc, out, code=5)
    assert "not audio we can read" in proc.stderr and name in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- gzip of more than one member ----------------------------------------------------------------


def test_a_gzip_body_of_two_members_is_decoded_whole(server: MediaServer, tmp_path: Path) -> None:
    """``cat a.gz b.gz`` is one valid gzip body (RFC 1952: members in a row; bgzip writes
    them). Was: exit 0 with the first member only (the rest left in zlib's unused_data)."""
    half = SIZE // 2
    body = gzip.compress(DATA[:half]) + gzip.compress(DATA[half:])
    server.add_route("two.bin", lambda path, query, now: (200, {"Content-Encoding": "gzip"}, body))
    out = tmp_path / "out.bin"
    proc = fetch(server.url("two.bin"), out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA


def test_data_after_a_deflate_body_is_refused(server: MediaServer, tmp_path: Path) -> None:
    """A zlib stream has one end: bytes after it belong to no coding kithara knows."""
    body = zlib.compress(DATA) + b"trailing junk"
    server.add_route(
        "junk.bin", lambda path, query, now: (200, {"Content-Encoding": "deflate"}, body)
    )
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(server.url("junk.bin"), out, "-q"), out, code=5)


# --- Content-Range spelt as servers spell it -----------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["bytes {a}-{b}/{n}", "Bytes {a}-{b}/{n}", "bytes={a}-{b}/{n}", "bytes  {a}-{b} / {n}"],
    ids=["standard", "capital", "equals", "spaces"],
)
def test_a_content_range_in_a_loose_spelling_is_read(
    server: MediaServer, tmp_path: Path, spelling: str
) -> None:
    """Range units are case-insensitive (RFC 9110 14.1); 'bytes=' is an old servers' slip
    aria2 reads too. Was: '206 without a usable Content-Range', exit 3, for all but the
    first."""
    cut = 250_000
    calls = [0]

    def handler(path: str, query: dict[str, str], now: float) -> Handler:
        calls[0] += 1  # the probe asks bytes=0-: the first half, then the rest
        a, b = (0, cut - 1) if calls[0] == 1 else (cut, SIZE - 1)
        header = spelling.format(a=a, b=b, n=SIZE)
        return 206, {"Content-Range": header, "ETag": ETAG}, DATA[a : b + 1]

    server.add_route("loose.bin", handler)
    out = tmp_path / "out.bin"
    proc = fetch(server.url("loose.bin"), out, "-q", "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA


def test_digits_that_int_refuses_are_no_numbers() -> None:
    """'²' is a digit to ``str.isdigit`` and no number to ``int``/``float``: it must read as
    no value (a clean 'unusable Content-Range'), not raise ValueError mid-transfer."""
    assert parse_content_range("bytes \u00b2-5/10") == (None, 6, 10)
    assert parse_content_range("bytes 0-5/\u00b2") == (0, 6, None)
    assert parse_retry_after("\u00b2") is None
