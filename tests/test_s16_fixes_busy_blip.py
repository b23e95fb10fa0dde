"""One busy answer to a side request is a blip, not a one-connection server (session 16).

Found here: a single 503 to a side request (FFmpeg's peek at a file's end) beside the running
request switched the playback to one connection at a time for the rest of it (the s16
``limit_conn 1`` handling): a CDN that refuses one request in a thousand then had every
later peek wait for the running request to end, or move it (a reconnect). Now it takes two
refusals in a row (no side request served between) to switch; a side request served after
the blip runs beside the running one as before. The ``limit_conn 1`` servers of
tests/test_s16_servers_one_conn_moov.py and tests/test_s15_servers_play_conn_cap.py still
play over one connection.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.file.source import ProgressiveSource
from kithara_cli.media import encode_file

STEP, PAUSE = 16_384, 0.1  # 160 KB/s per connection: the start-up request runs ~3 s


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("blip") / "tone.mp3"
    encode_file(path, 120.0, "mp3")
    return path.read_bytes()


class _Blip(http.server.BaseHTTPRequestHandler):
    """``data`` with Range, paced, to any number of requests, but the first one that comes
    while another is served gets a 503 (a CDN edge's moment of trouble)."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    lock: ClassVar[threading.Lock]
    active: ClassVar[int] = 0
    seen: ClassVar[list[str]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        size = len(cls.data)
        wanted = self.headers.get("Range", "")
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted)
        first = int(match.group(1)) if match else 0
        last = min(int(match.group(2)), size - 1) if match and match.group(2) else size - 1
        with cls.lock:
            blip = cls.active > 0 and not any(s.startswith("503") for s in cls.seen)
            cls.seen.append(("503 " if blip else "") + wanted)
            cls.active += 0 if blip else 1
        if blip:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            body = cls.data[first : last + 1]
            self.send_response(206 if match else 200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"blip"')
            if match:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            for at in range(0, len(body), STEP):
                self.wfile.write(body[at : at + STEP])
                time.sleep(PAUSE)
        except OSError:
            pass
        finally:
            with cls.lock:
                cls.active -= 1


@contextlib.contextmanager
def _serve(data: bytes) -> Iterator[tuple[str, type[_Blip]]]:
    handler = type("Handler", (_Blip,), {"data": data, "lock": threading.Lock(), "seen": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/tone.mp3", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def _wait(check: Callable[[], bool], timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_a_side_request_after_one_busy_answer_runs_beside_the_stream(
    mp3: bytes, tmp_path: Path
) -> None:
    with _serve(mp3) as (url, origin), Downloader(EventBus()) as dl:
        source = ProgressiveSource(dl, url, tmp_path / "cache.bin")
        try:
            source.start(0)
            assert source.first_response.wait(5) and source.length() == len(mp3)
            total = len(mp3)
            # FFmpeg's peek at the end (ID3v1): the blip turns it away.
            assert not source.peek_ready(total - 128, 128)
            assert _wait(lambda: not source.fetching(total - 128))
            assert any(s.startswith("503") for s in origin.seen), origin.seen
            # A later peek elsewhere past the stream: a side request beside it, served at
            # once (was: none while the stream runs, the peek waited for its end, ~3 s).
            at = total - 300_000
            assert not source.peek_ready(at, 4096)
            assert _wait(lambda: source.resource.contains(at, at + 4096)), origin.seen
        finally:
            source.close()
    # The stream never moved: its request, the refused peek, the side request; no more.
    assert origin.seen[0] == "bytes=0-524287" and len(origin.seen) == 3, origin.seen
