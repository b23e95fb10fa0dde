"""A URL's redirect target is remembered for the run: later ranges go straight there.

Found in session 14: a podcast episode's URL is a chain of tracking redirects before the CDN,
and every ranged request followed the whole chain again: ``play`` of a cover-art MP3 behind
3 redirects at 50 ms took 1.01 s to first audio (0.64 s now), and each seek, and each of
``fetch``'s parallel parts, paid the chain again. FFmpeg sends a seek's request to the
redirect's target, as Chromium's media loader does. A target that fails (an expired signed
URL) is forgotten and the URL itself asked again, without counting as a try.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import run_cli
from kithara_cli.dl.redirects import RedirectMemory
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def test_what_is_remembered() -> None:
    memory = RedirectMemory()
    memory.learn("http://a/ep.mp3", "https://cdn.b/ep.mp3?sig=1")
    assert memory.target("http://a/ep.mp3") == "https://cdn.b/ep.mp3?sig=1"
    assert memory.target("http://a/other.mp3") == "http://a/other.mp3"
    memory.forget("http://a/ep.mp3")
    assert memory.target("http://a/ep.mp3") == "http://a/ep.mp3"
    memory.learn("http://u:p@a/ep.mp3", "http://a/ep2.mp3")  # basic auth: never
    assert memory.target("http://u:p@a/ep.mp3") == "http://u:p@a/ep.mp3"
    memory.learn("http://a/x", "ftp://a/x")
    assert memory.target("http://a/x") == "http://a/x"
    authorized = RedirectMemory(sends_authorization=True)
    authorized.learn("http://a/ep.mp3", "http://cdn.b/ep.mp3")  # another origin: never
    assert authorized.target("http://a/ep.mp3") == "http://a/ep.mp3"
    authorized.learn("http://a/ep.mp3", "http://a:80/cdn/ep.mp3")  # the same origin: yes
    assert authorized.target("http://a/ep.mp3") == "http://a:80/cdn/ep.mp3"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("redirects")
    encode_file(root / "ep.mp3", 120.0, "mp3")  # ~1.9 MB: more than the first request
    (root / "big.bin").write_bytes(os.urandom(3_000_000))
    return root


def test_parallel_parts_and_seeks_follow_the_chain_once(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(redirects=3))
        out = tmp_path / "big.bin"
        proc = run_cli("fetch", srv.url("big.bin"), "--out", str(out), "-c", "4", env=ENV)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == (media / "big.bin").read_bytes()
        records = srv.stats.requests("big.bin")
        assert sum(r.status == 302 for r in records) == 3, records  # the first request's
        assert sum(r.status == 206 for r in records) >= 2, records  # and the parts after it
        args = ("--no-ui", "--output", "null", "--length", "0.3", "--start", "100")
        proc = run_cli("play", srv.url("ep.mp3"), *args, env=ENV)
        assert proc.returncode == 0, proc.stderr
        played = srv.stats.requests("ep.mp3")
        assert len([r for r in played if r.status != 302]) >= 2, played  # ranges after the first
        assert sum(r.status == 302 for r in played) == 3, played


class _ExpiringCdn(BaseHTTPRequestHandler):
    """``/ep`` redirects to ``/cdn?sig=N``; a signature serves two ranged requests, then 403."""

    data: ClassVar[bytes] = b""
    lock: ClassVar[threading.Lock] = threading.Lock()
    signature: ClassVar[int] = 0
    served: ClassVar[dict[int, int]] = {}
    log: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.log.append(self.path)
            if self.path == "/ep":
                cls.signature += 1
                self.send_response(302)
                self.send_header("Location", f"/cdn?sig={cls.signature}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            sig = int(self.path.rpartition("=")[2])
            cls.served[sig] = cls.served.get(sig, 0) + 1
            expired = sig != cls.signature or cls.served[sig] > 2
        if expired:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, _, end = self.headers["Range"].removeprefix("bytes=").partition("-")
        first, last = int(start), int(end) if end else len(cls.data) - 1
        body = cls.data[first : last + 1]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {first}-{last}/{len(cls.data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def expiring(media: Path) -> Iterator[str]:
    _ExpiringCdn.data = (media / "big.bin").read_bytes()
    _ExpiringCdn.log, _ExpiringCdn.served, _ExpiringCdn.signature = [], {}, 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ExpiringCdn)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/ep"
    httpd.shutdown()
    httpd.server_close()


def test_an_expired_target_is_asked_for_again_through_the_url(
    media: Path, tmp_path: Path, expiring: str
) -> None:
    out = tmp_path / "big.bin"
    proc = run_cli(
        "fetch", expiring, "--out", str(out), "-c", "4", "--retries", "1", env=ENV, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(_ExpiringCdn.data).hexdigest()
    assert _ExpiringCdn.log.count("/ep") >= 2  # an expired target sent it back to the URL
