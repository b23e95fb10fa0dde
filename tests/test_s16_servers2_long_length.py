"""A 200 whose Content-Length promises more than the body, the connection kept open.

Found in session 16: ``kithara play`` of such a server (a proxy that rewrote the body and kept
the old length) played every second of the audio, then waited for the bytes that never came:
20 s of no data, a retry from byte 0 that stalled at the same byte, six times over, and exit 3
after 126 s ("no data for too long"). mpv ends such a file at its network timeout; FFmpeg
waits for ever. Now a read that stalls (2 s past its grace) once the audio decoded reaches the
length the stream itself declares (an MP3's Xing/Info frame count: FFmpeg drops it when the
announced size disagrees; FLAC's STREAMINFO) is taken for the end: FFmpeg flushes the last
frames, a warning says the server stopped short, exit 0 after ~3 s instead of 126 s.

A stream with no length of its own (ADTS AAC; its ID3v1 peek waits for the end) fails sooner:
a whole body sent again that stalls at the same byte is the server's last word (40 s, was
126 s: six stalls of 20 s).
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
from kithara_cli.audio.mp3_frames import tagged_seconds
from kithara_cli.media.encode import encode_file

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
EXTRA = 100_000  # bytes announced and never sent


class _LongLength(http.server.BaseHTTPRequestHandler):
    """A 200 announcing EXTRA bytes more than it sends (Range ignored), then silence."""

    protocol_version = "HTTP/1.1"
    data: ClassVar[bytes] = b""
    kind: ClassVar[str] = ""
    done: ClassVar[threading.Event] = threading.Event()
    gets: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        cls.gets.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", cls.kind)
        self.send_header("Content-Length", str(len(cls.data) + EXTRA))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(cls.data)
            self.wfile.flush()
            cls.done.wait(60)  # the connection stays open, nothing more comes


@contextlib.contextmanager
def _serve(data: bytes, kind: str) -> Iterator[tuple[str, list[str]]]:
    done = threading.Event()
    fields = {"data": data, "kind": kind, "done": done, "gets": []}
    handler = type("Handler", (_LongLength,), fields)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/ep", handler.gets
    finally:
        done.set()
        httpd.shutdown()
        httpd.server_close()


def test_the_tag_count_is_read() -> None:
    head = bytes(10) + b"\xff\xfb\x90\x64" + bytes(32) + b"Info" + (1).to_bytes(4, "big")
    assert tagged_seconds(head + (100).to_bytes(4, "big")) == pytest.approx(100 * 1152 / 44100)
    assert tagged_seconds(bytes(64)) is None


@pytest.mark.parametrize(("fmt", "kind"), [("mp3", "audio/mpeg"), ("flac", "audio/flac")])
def test_play_ends_at_the_declared_end(tmp_path: Path, fmt: str, kind: str) -> None:
    data = encode_file(tmp_path / f"ep.{fmt}", 3.0, fmt).read_bytes()  # type: ignore[arg-type]
    with _serve(data, kind) as (url, _):
        started = time.monotonic()
        proc = run_cli("play", url, "--no-ui", "--output", "null", env=ENV, timeout=40)
        took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "stopped sending" in proc.stderr, proc.stderr
    assert "end of stream at 0:03" in proc.stderr, proc.stderr
    assert took < 15, took  # was 126 s, then exit 3


def test_a_stall_at_the_same_byte_twice_is_the_servers_last_word(tmp_path: Path) -> None:
    data = encode_file(tmp_path / "ep.aac", 3.0, "aac").read_bytes()
    with _serve(data, "audio/aac") as (url, gets):
        args = ("--no-ui", "--output", "null", "--timeout", "1.5")
        proc = run_cli("play", url, *args, env=ENV, timeout=40)
    assert proc.returncode == 3, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert f"no data past byte {len(data)}, twice" in last, last
    assert len(gets) == 2, gets  # was 6 (every try stalled at the same byte)
