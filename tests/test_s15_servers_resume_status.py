"""An interrupted ``kithara fetch`` whose resume is met by an HTTP status (a CDN's passing 403
or 404, a rate limit's 403): the bytes on disk are the user's, not the server's to discard.

Was: exit 4 and ``FILE.part`` with its state deleted, so the next run, the server well again,
started from byte 0 (curl -C - and wget -c keep theirs). Now: exit 4, one line saying what is
kept, and the same command later resumes to a byte-identical file.
"""

from __future__ import annotations

import contextlib
import http.server
import random
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import fetch_cli
from hls_fixtures import popen_fetch, wait_for
from kithara_cli.file.state import load_state, part_paths

SIZE = 3_000_000
DATA = random.Random(1516).randbytes(SIZE)


class _Origin(http.server.BaseHTTPRequestHandler):
    """DATA with Range and an ETag; ``status`` (0: serve) answers every request instead;
    ``slow``: 64 KiB every 50 ms, for a fetch to be interrupted midway."""

    protocol_version = "HTTP/1.1"
    status: ClassVar[int] = 0
    slow: ClassVar[bool] = True
    ranges: ClassVar[list[int]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        if cls.status:
            self.send_response(cls.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        first = int(match.group(1)) if match else 0
        last = int(match.group(2)) if match and match.group(2) else SIZE - 1
        cls.ranges.append(first)
        body = DATA[first : last + 1]
        self.send_response(206 if match else 200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        if match:
            self.send_header("Content-Range", f"bytes {first}-{last}/{SIZE}")
        self.end_headers()
        for at in range(0, len(body), 65536):
            self.wfile.write(body[at : at + 65536])
            if cls.slow:
                time.sleep(0.05)


@contextlib.contextmanager
def _serve() -> Iterator[tuple[str, type[_Origin]]]:
    handler = type("Handler", (_Origin,), {"status": 0, "slow": True, "ranges": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/big.bin", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("status", [403, 404])
def test_a_status_on_resume_keeps_the_bytes_for_a_later_resume(tmp_path: Path, status: int) -> None:
    out = tmp_path / "big.bin"
    part, state_path = part_paths(out)
    with _serve() as (url, origin):
        proc = popen_fetch(url, "--out", str(out), "--retries", "2")

        def some_bytes() -> bool:
            state = load_state(state_path) if part.exists() else None
            return state is not None and sum(b - a for a, b in state.ranges) > 300_000

        wait_for(some_bytes, what="the first bytes on disk")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        assert proc.returncode == 130
        held = sum(b - a for a, b in load_state(state_path).ranges)  # type: ignore[union-attr]

        origin.status = status
        refused = fetch_cli(url, out)
        assert refused.returncode == 4, refused.stderr
        lines = [line for line in refused.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("kithara: error: ")]
        assert len(errors) == 1 and f"HTTP {status}" in errors[0], refused.stderr
        assert "kept" in errors[0] and "Traceback" not in refused.stderr
        assert not out.exists() and part.exists() and state_path.exists()

        origin.status, origin.slow = 0, False
        origin.ranges.clear()
        done = fetch_cli(url, out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == DATA
    assert "resuming" in done.stderr
    assert 0 not in origin.ranges  # resumed, not fetched again from byte 0
    assert held > 300_000
