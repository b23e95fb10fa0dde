"""A paced origin with Range that turns some requests away with 503: a connection cap
(nginx ``limit_conn 1``) or a CDN edge's moment of trouble, for the one-connection tests."""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import time
from collections.abc import Iterator
from typing import ClassVar


class PacedRanges(http.server.BaseHTTPRequestHandler):
    """``data`` with Range, ``step`` bytes per ``pause`` seconds (the pause before each step
    with ``pause_first``: a slow first byte). ``turn_away`` (under ``lock``) says which
    request gets a 503; by default any that comes while another is served. ``seen`` lists
    each request's Range, "503 " before the refused ones."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    lock: ClassVar[threading.Lock]
    active: ClassVar[int] = 0
    refused: ClassVar[int] = 0
    seen: ClassVar[list[str]]
    content_type: ClassVar[str] = "audio/mpeg"
    etag: ClassVar[str] = '"one"'
    accept_ranges: ClassVar[bool] = False
    step: ClassVar[int] = 65536
    pause: ClassVar[float] = 0.25
    pause_first: ClassVar[bool] = False

    def log_message(self, format: str, *args: object) -> None:
        pass

    @classmethod
    def turn_away(cls) -> bool:
        return cls.active > 0

    def do_GET(self) -> None:
        cls = type(self)
        size = len(cls.data)
        wanted = self.headers.get("Range", "")
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted)
        first = int(match.group(1)) if match else 0
        last = min(int(match.group(2)), size - 1) if match and match.group(2) else size - 1
        with cls.lock:
            busy = cls.turn_away()
            cls.active += 0 if busy else 1
            cls.refused += 1 if busy else 0
            cls.seen.append(("503 " if busy else "") + wanted)
        if busy:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            body = cls.data[first : last + 1]
            self.send_response(206 if match else 200)
            self.send_header("Content-Type", cls.content_type)
            self.send_header("Content-Length", str(len(body)))
            if cls.accept_ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", cls.etag)
            if match:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            for at in range(0, len(body), cls.step):
                if cls.pause_first:
                    time.sleep(cls.pause)
                self.wfile.write(body[at : at + cls.step])
                if not cls.pause_first:
                    time.sleep(cls.pause)
        except OSError:
            pass  # the client went, or moved its one connection elsewhere
        finally:
            with cls.lock:
                cls.active -= 1


@contextlib.contextmanager
def serve_paced(
    handler: type[PacedRanges], data: bytes, name: str
) -> Iterator[tuple[str, type[PacedRanges]]]:
    """``handler`` (a subclass setting its pace and turn_away) serving ``data`` at ``/name``,
    with counters of its own."""
    fresh = type("Handler", (handler,), {"data": data, "lock": threading.Lock(), "seen": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), fresh)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{name}", fresh
    finally:
        httpd.shutdown()
        httpd.server_close()
