"""``kithara play`` from a server that caps connections per client (nginx ``limit_conn 1``):
while the first request is being served, a second one gets 503.

FFmpeg peeks at an MP3's end (ID3v1) before it plays; kithara asks those bytes beside the
running request. Was: the peek's 503s, after its retries, failed the whole stream (exit 3 in
about a second) while the first connection was delivering the file; mpv and ffplay, one
connection at a time, played it. Now a busy answer to the peek is not the stream's failure:
the peek is asked again, and served once the connection is free.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import run_cli
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media import encode_file


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("conn_cap") / "tone.mp3"
    encode_file(path, 30.0, "mp3")
    # Without the encoder's ID3v2 tag: a file whose tag names a title is not peeked at (the
    # demuxer reads ID3v1 only when it found no title; session 16 shows small tags to it).
    data = path.read_bytes()
    return data[id3v2_size(data) :]


class _OneAtATime(http.server.BaseHTTPRequestHandler):
    """``data`` with Range, 64 KiB every 0.25 s, to one request at a time (others: 503)."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    lock = threading.Lock()
    active: ClassVar[int] = 0
    refused: ClassVar[int] = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        size = len(cls.data)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        first = int(match.group(1)) if match else 0
        last = min(int(match.group(2)), size - 1) if match and match.group(2) else size - 1
        with cls.lock:
            busy = cls.active > 0
            cls.active += 0 if busy else 1
            cls.refused += 1 if busy else 0
        if busy:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            body = cls.data[first : last + 1]
            self.send_response(206 if match else 200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"one"')
            if match:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            for at in range(0, len(body), 65536):
                self.wfile.write(body[at : at + 65536])
                time.sleep(0.25)
        finally:
            with cls.lock:
                cls.active -= 1


@contextlib.contextmanager
def _serve(data: bytes) -> Iterator[tuple[str, type[_OneAtATime]]]:
    handler = type("Handler", (_OneAtATime,), {"data": data, "active": 0, "refused": 0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/tone.mp3", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_peek_turned_away_by_a_connection_cap_does_not_end_playback(
    mp3: bytes, tmp_path: Path
) -> None:
    with _serve(mp3) as (url, origin):
        proc = run_cli(
            "play", url, "--output", "null", "--length", "1", "--no-ui", "--retries", "2",
            "--events", str(tmp_path / "events.jsonl"), timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr
    assert origin.refused > 0  # a second connection was tried, and turned away
