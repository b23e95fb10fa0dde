"""A body that trickles (a byte every half second) is named a trickle, not a silence.

Was: ``kithara play`` of such a server logged "STALLED #1 ...: no bytes for 20 s at 200 kB"
while bytes were arriving, then ended with "body slower than 1024 bytes/s for 20 s": two
stories. The BodyStalled event (and its STALLED line) is now for a true stall only; a
trickle's retries and its final line say what it is. (The watchdog did fire: no hang.)
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from radio_fixtures import read_events


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("trickle") / "ep.mp3"
    return encode_file(path, 20.0, "mp3").read_bytes()


class _Trickle(http.server.BaseHTTPRequestHandler):
    """The first 64 KB at once, then one byte every 0.25 s (ignores Range: a 200)."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = type(self).data
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"t"')
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body[:65536])
            for at in range(65536, len(body)):
                self.wfile.write(body[at : at + 1])
                self.wfile.flush()
                time.sleep(0.25)


@contextlib.contextmanager
def _serve(data: bytes) -> Iterator[str]:
    handler = type("Handler", (_Trickle,), {"data": data})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/ep.mp3"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_trickle_is_not_reported_as_no_bytes(mp3: bytes, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    with _serve(mp3) as url:
        started = time.monotonic()
        proc = run_cli(
            "play", url, "--output", "null", "--no-ui", "--retries", "2", "--timeout", "2",
            "--events", str(events), env={"KITHARA_CACHE": "off"}, timeout=90,
        )  # fmt: skip
        took = time.monotonic() - started
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("kithara: error: body slower than")
    assert "no bytes for" not in proc.stderr, proc.stderr
    assert not [e for e in read_events(events) if e["event"] == "BodyStalled"]
    assert took < 60  # the watchdog fired: two windows of 2 s each, and the start-up
