"""A live stream without ICY headers is not written to the persistent cache (session 16).

Found here: a plain HTTP streamer (chunked audio, no end, no ``icy-*`` headers, no ETag, no
Last-Modified, no lifetime: what ffmpeg's ``-listen 1`` or a bare harbor output sends) was
recorded into the cache piece by piece while it played (``dl.cached``'s recorder keeps a
body of unknown length up to 256 MiB) and deleted at the end: 1 MB written per 20 s of a
64 KB/s stream, 33 MB in 3 s from a quick one. Such a body could never be given to a later
run anyway (nothing confirms it, it is never fresh): it is not recorded now. A body the
player takes as live past its cap, and a LiveStream's own connections, are not kept either.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file

RATE = 512_000  # bytes/s: 1 MiB (a cache piece) within the run


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("live-cache") / "tone.mp3"
    encode_file(path, 20.0, "mp3")
    return path.read_bytes()


def _streamer(body: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        """The tone over and over, chunked, paced at ``RATE``, no end, no ICY headers."""

        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while True:
                    for at in range(0, len(body), 16384):
                        piece = body[at : at + 16384]
                        self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                        time.sleep(len(piece) / RATE)
            except OSError:  # the listener left
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _written(data: Path) -> int:
    if not data.exists():
        return 0
    return sum(f.stat().st_size for f in data.rglob("*") if f.is_file())


def test_a_plain_http_stream_writes_nothing_to_the_cache(tone: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _streamer(tone))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/live"
    args = ["play", url, "--output", "null", "--length", "3", "--no-ui", "--cache-dir", str(cache)]
    most = 0
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kithara_cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "KITHARA_AUDIO_DEVICE": "none"},
        )
        while proc.poll() is None:
            most = max(most, _written(cache / "data"))
            time.sleep(0.01)
        err = proc.communicate(timeout=30)[1]
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, err
    assert most == 0 and _written(cache / "data") == 0, most
