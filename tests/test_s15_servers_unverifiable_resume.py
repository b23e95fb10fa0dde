"""``kithara play`` of a file served with no length, no Range and no validators (chunked, as a
CGI script or a gzip-on-the-fly proxy sends it), whose first connection is cut.

The second answer is the whole body again, and nothing tells it is the same file: playback
cannot go on without risking a splice, and stops (exit 3). Was: the line said "remote file
changed (no validators, now no validators)", a change nobody saw. Now it says why it cannot
resume.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import play_null
from kithara_cli.media import encode_file

CUT = 40_000  # bytes of the first answer: about 2.5 s of 128k MP3


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("unverifiable") / "tone.mp3"
    encode_file(path, 8.0, "mp3")
    return path.read_bytes()


class _Chunked(http.server.BaseHTTPRequestHandler):
    """Chunked 200s, Range ignored, no ETag or Last-Modified; the first one cut at CUT."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    requests: ClassVar[int] = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        cls.requests += 1
        body = self.data[:CUT] if cls.requests == 1 else self.data
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"%x\r\n" % len(body) + body + b"\r\n")
        if cls.requests == 1:
            self.close_connection = True  # no last chunk: the body is cut
            return
        self.wfile.write(b"0\r\n\r\n")


@contextlib.contextmanager
def _serve(data: bytes) -> Iterator[str]:
    handler = type("Handler", (_Chunked,), {"data": data, "requests": 0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/tone.mp3"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_cut_unverifiable_body_is_named_as_such_not_as_a_change(
    mp3: bytes, tmp_path: Path
) -> None:
    with _serve(mp3) as url:
        proc = play_null(url, tmp_path / "events.jsonl", length="6")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("kithara: error: ")]
    assert len(errors) == 1, proc.stderr
    assert "cannot resume" in errors[0] and "no length, ETag or Last-Modified" in errors[0]
    assert "remote file changed" not in proc.stderr
