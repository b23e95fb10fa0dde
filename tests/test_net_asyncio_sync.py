"""httpcore runs on asyncio's own primitives (net.asyncio_sync), never anyio, unless proxied."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from tests.conftest import run_cli, sha256

from kithara_cli.net import asyncio_sync
from kithara_cli.server import MediaServer


def test_a_fetch_never_imports_anyio(server: MediaServer, blob_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "medium.bin"
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('anyio loaded:', 'anyio' in sys.modules))\n"
        f"sys.argv = ['kithara', 'fetch', {server.url('medium.bin')!r}, '-o', {str(out)!r}, '-q']\n"
        "from kithara_cli.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "anyio loaded: False" in proc.stdout  # and the exit handler ran before the fast exit
    assert sha256(out) == sha256(blob_root / "medium.bin")


def test_httpcore_synchronisation_points_at_asyncio() -> None:
    from kithara_cli.net.core import httpcore  # httpcore as the client loads it

    assert httpcore._synchronization.anyio is asyncio_sync


class _ForwardProxy(BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: absolute-form GETs relayed to the origin."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _ForwardProxy.seen.append(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("range", "user-agent")}
        request = urllib.request.Request(self.path, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as upstream:
            body = upstream.read()
            self.send_response(upstream.status)
            for name in ("Content-Type", "Content-Range", "Accept-Ranges"):
                if upstream.headers.get(name):
                    self.send_header(name, upstream.headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _ForwardProxy.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_proxied_fetch_uses_httpcores_anyio_backend(
    server: MediaServer, blob_root: Path, tmp_path: Path, proxy: str
) -> None:
    """Through a proxy httpx uses httpcore's anyio backend: the stand-in loads the real anyio."""
    out = tmp_path / "small.bin"
    proc = run_cli("fetch", server.url("small.bin"), "-o", str(out), "-q", "--proxy", proxy)
    assert proc.returncode == 0, proc.stderr
    assert sha256(out) == sha256(blob_root / "small.bin")
    assert _ForwardProxy.seen and _ForwardProxy.seen[0].startswith("http://127.0.0.1:")


def test_fail_after_raises_timeout_and_leaves_other_cancels_alone() -> None:
    async def waits(delay: float | None) -> str:
        with asyncio_sync.fail_after(delay):
            await asyncio.sleep(0.05)
        return "done"

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await waits(0.001)
        assert await waits(None) == "done"
        assert await waits(5) == "done"
        task = asyncio.create_task(waits(5))
        await asyncio.sleep(0)
        task.cancel()  # a cancel from outside stays a cancel
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_semaphore_is_bounded() -> None:
    async def main() -> None:
        sem = asyncio_sync.Semaphore(initial_value=1, max_value=1)
        await sem.acquire()
        sem.release()
        with pytest.raises(ValueError):
            sem.release()

    asyncio.run(main())
