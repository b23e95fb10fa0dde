"""A server whose Content-Range total changes between the parts of one file, the ETag kept.

A CDN node with a newer (longer) copy of an episode still uploading, or two nodes that
disagree, answer a resume with ``bytes 300000-960931/965932`` after ``.../960932``. kithara
already refused to splice (the length is part of the version); but the user read
"remote file changed (ETag "e1", now ETag "e1")" (the same words twice), then, once the
fetch had started over and the new total was never reached, "short range, more to come"
(an internal retry note) as the final error. Now: "remote file changed (length 960932, now
965932)", and "the range ended at byte N, short of M"; one line, exit 3, nothing at --out.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("total_change") / "ep.mp3"
    return encode_file(path, 20.0, "mp3").read_bytes()


class _Growing(http.server.BaseHTTPRequestHandler):
    """The first answer: the true total, cut after 100 KB; later ones: a total 5000 bytes
    larger (the same bytes, the same ETag)."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    served: ClassVar[int] = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        cls.served += 1
        size = len(cls.data)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        first = int(match.group(1)) if match else 0
        last = min(int(match.group(2)), size - 1) if match and match.group(2) else size - 1
        body = cls.data[first : last + 1]
        total = size if cls.served == 1 else size + 5000
        self.send_response(206)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("ETag", '"e1"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Range", f"bytes {first}-{last}/{total}")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body[:100_000] if cls.served == 1 else body)
        self.close_connection = cls.served == 1


@contextlib.contextmanager
def _serve(data: bytes) -> Iterator[str]:
    handler = type("Handler", (_Growing,), {"data": data, "served": 0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/ep.mp3"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_changing_total_is_named_by_its_lengths(mp3: bytes, tmp_path: Path) -> None:
    out, events = tmp_path / "ep.mp3", tmp_path / "ev.jsonl"
    with _serve(mp3) as url:
        proc = run_cli(
            "fetch", url, "--out", str(out), "--retries", "2", "--events", str(events),
            env={"KITHARA_CACHE": "off"}, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "error" in line]
    size = len(mp3)
    assert len(lines) == 1 and f"the range ended at byte {size}, short of {size + 5000}" in lines[0]
    assert not out.exists()
    errors = [
        str(e.get("error"))
        for e in map(json.loads, events.read_text().splitlines())
        if e["event"] == "RequestFailed"
    ]
    assert any(f"remote file changed (length {size}, now {size + 5000})" in e for e in errors)
    assert not any("now ETag" in e for e in errors), errors
