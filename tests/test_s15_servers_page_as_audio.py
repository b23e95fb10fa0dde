"""``kithara play`` of a URL whose server says audio/mpeg, 200, and sends an HTML error page
(a download script that set its headers before it failed).

Was: exit 5 with FFmpeg's words, ``cannot open the audio: InvalidDataError: [Errno
1094995529] Invalid data found when processing input: '<none>'``. Now the body of an
audio-typed answer the size of a page is looked at first: the line says it is a web page. A
short real MP3 of the same size still plays.
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

PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Error</title></head>"
    b"<body><h1>File not found</h1><p>The file was removed.</p></body></html>\n"
)


@pytest.fixture(scope="module")
def short_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("page_as_audio") / "short.mp3"
    encode_file(path, 2.0, "mp3")
    data = path.read_bytes()
    assert len(data) < 64 << 10  # within the size that is looked at first
    return data


class _AudioMpeg(http.server.BaseHTTPRequestHandler):
    """Every path its body from ``bodies``, as ``200 audio/mpeg`` with its length."""

    protocol_version = "HTTP/1.1"
    bodies: ClassVar[dict[str, bytes]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = self.bodies[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def _serve(bodies: dict[str, bytes]) -> Iterator[str]:
    handler = type("Handler", (_AudioMpeg,), {"bodies": bodies})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_error_page_sent_as_audio_mpeg_is_named_a_web_page(tmp_path: Path) -> None:
    with _serve({"/song.mp3": PAGE}) as base:
        proc = play_null(f"{base}/song.mp3", tmp_path / "events.jsonl")
    assert proc.returncode == 5, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: not audio: "), proc.stderr
    assert "web page" in lines[0] and "Errno" not in lines[0]


def test_a_short_real_mp3_of_that_size_still_plays(short_mp3: bytes, tmp_path: Path) -> None:
    with _serve({"/short.mp3": short_mp3}) as base:
        proc = play_null(f"{base}/short.mp3", tmp_path / "events.jsonl", length="1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
