"""``kithara play`` of an M4A whose ``moov`` follows ``mdat``, from a server that grants one
connection per client (nginx ``limit_conn 1``: a second concurrent request gets 503).

FFmpeg must read ``moov`` (past the audio) before the first frame; kithara reads it over a
side request, which such a server turns away while the audio's request runs. Was (64 KB/s):
with 1 MB of cover art in ``moov``, the side request's retries ran out, the picture was not
skipped, the decoder gave up probing (exit 5 after ~20 s); without art, first audio after
~13 s (the retries waited for the audio request to end). mpv and ffmpeg close their one
connection and reopen at ``moov``. Now a side request turned away busy beside another is
not retried: the one request moves (and moves on past the picture), and a request opened
right after closing the other waits out the server's moment of seeing it closed.
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
from kithara_cli.media.encode import encode_file
from kithara_cli.media.mp4_art import moov_at_end, with_cover_art
from radio_fixtures import read_events

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
RATE = 64_000  # bytes/s per connection: the 512 KB start-up request takes 8 s
STEP = 4096


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("one-conn-moov")
    plain = encode_file(root / "plain.m4a", 60.0, "m4a").read_bytes()
    return {
        "art": moov_at_end(with_cover_art(plain, 1_000_000)),
        "plain": moov_at_end(plain),
    }


class _OneAtATime(http.server.BaseHTTPRequestHandler):
    """``data`` with Range at ``RATE``, to one request at a time (others: 503)."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    lock: ClassVar[threading.Lock]
    active: ClassVar[int] = 0
    refused: ClassVar[int] = 0
    ranges: ClassVar[list[str]]

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
            cls.ranges.append(("503 " if busy else "") + self.headers.get("Range", ""))
        if busy:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            body = cls.data[first : last + 1]
            self.send_response(206 if match else 200)
            self.send_header("Content-Type", "audio/mp4")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", '"one"')
            if match:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            for at in range(0, len(body), STEP):
                time.sleep(STEP / RATE)
                self.wfile.write(body[at : at + STEP])
        except OSError:
            pass  # the client moved its one connection elsewhere
        finally:
            with cls.lock:
                cls.active -= 1


@contextlib.contextmanager
def _serve(data: bytes) -> Iterator[tuple[str, type[_OneAtATime]]]:
    attrs = {"data": data, "lock": threading.Lock(), "active": 0, "refused": 0, "ranges": []}
    handler = type("Handler", (_OneAtATime,), attrs)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/episode.m4a", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("kind", ["art", "plain"])
def test_moov_past_the_audio_plays_over_one_connection(
    media: dict[str, bytes], kind: str, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    with _serve(media[kind]) as (url, origin):
        proc = run_cli(
            "play", url, "--output", "null", "--length", "1", "--no-ui",
            "--events", str(events), env=ENV, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, (proc.stderr, origin.ranges)
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr
    started = [e for e in read_events(events) if e["event"] == "PlaybackStarted"]
    assert started, proc.stderr
    # One connection moved to moov and back: no waiting for the 8 s start-up request.
    assert started[0]["time_to_first_audio"] < 5.0, (started, origin.ranges)
    assert origin.refused > 0, origin.ranges  # a side request was tried, and turned away
