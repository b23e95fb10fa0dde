"""``kithara fetch`` against a server that caps connections per client, as nginx's
``limit_conn`` and many file hosts do: a request while another is being served gets 503 (or
429), the one connection it grants is served in full.

Was: the parallel parts ran out of retries while the first connection was still delivering
and failed the whole fetch (exit 3), where curl and wget, on one connection, saved the file.
Now a part turned away as busy waits for a connection to come free: the file is whole.
"""

from __future__ import annotations

import contextlib
import http.server
import random
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from conftest import assert_clean_failure, fetch_cli
from kithara_cli.file.state import part_paths

SIZE = 3_000_000  # three parallel parts of 1 MiB and more
DATA = random.Random(1515).randbytes(SIZE)


class _OneAtATime(http.server.BaseHTTPRequestHandler):
    """Serves DATA (Range honoured, ~1 MB/s so a part outlasts a busy one's retries) to one
    request at a time; ``refuse_parts``: a range not from byte 0 is always refused (a server
    that never grants a second connection, whatever the first is doing)."""

    protocol_version = "HTTP/1.1"
    status: ClassVar[int] = 503
    refuse_parts: ClassVar[bool] = False
    lock = threading.Lock()
    active: ClassVar[int] = 0
    refused: ClassVar[int] = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _busy(self) -> None:
        type(self).refused += 1
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        first = int(match.group(1)) if match else 0
        last = int(match.group(2)) if match and match.group(2) else SIZE - 1
        cls = type(self)
        with cls.lock:
            busy = cls.active > 0 or (cls.refuse_parts and first > 0)
            if not busy:
                cls.active += 1
        if busy:
            self._busy()
            return
        try:
            body = DATA[first : last + 1]
            self.send_response(206 if match else 200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", '"one"')
            if match:
                self.send_header("Content-Range", f"bytes {first}-{last}/{SIZE}")
            self.end_headers()
            for at in range(0, len(body), 65536):
                self.wfile.write(body[at : at + 65536])
                time.sleep(0.06)
        finally:
            with cls.lock:
                cls.active -= 1


@contextlib.contextmanager
def _serve(status: int, refuse_parts: bool = False) -> Iterator[str]:
    handler = type("Handler", (_OneAtATime,), {"status": status, "refuse_parts": refuse_parts})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/file.bin"
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert handler.refused > 0  # the parallel parts were asked for, and turned away


def test_parts_turned_away_by_a_connection_cap_wait_their_turn(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    with _serve(503) as url:
        proc = fetch_cli(url, out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.read_bytes() == DATA
    assert not any(p.exists() for p in part_paths(out))


def test_a_429_cap_too(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    with _serve(429) as url:
        proc = fetch_cli(url, out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DATA


def test_parts_never_granted_still_fail_cleanly_and_keep_the_part(tmp_path: Path) -> None:
    """Busy for every part, even with the first connection done: exit 3 after the retries,
    the bytes the first connection brought kept for a resume."""
    out = tmp_path / "out.bin"
    with _serve(503, refuse_parts=True) as url:
        proc = fetch_cli(url, out, "-q")
    assert_clean_failure(proc, out, code=3)
    assert "HTTP 503" in proc.stderr
    part, state = part_paths(out)
    assert part.exists() and state.exists()
    assert part.read_bytes()[: 1 << 20] == DATA[: 1 << 20]
