"""A failed HLS fetch exits at once: no cancelled request is left running.

Seen: ``fetch`` of an AES stream with a wrong key took 10.3 s to exit, waiting in
``HlsWriter._cancel_all`` for segments that had been cancelled. The cancel had been lost in
``asyncio.wait_for`` (Python 3.11: a cancel that lands as the connection completes is dropped
and the connection returned), so each request went on to read its whole, slow body.
"""

from __future__ import annotations

import concurrent.futures
import random
import time
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, assert_nothing_written, fetch
from kithara_cli.dl import Downloader, FetchCmd
from kithara_cli.events import EventBus
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media

SLOW_SEGMENTS = Faults(rate_per_conn=5_000, first_byte_delay=0.5)  # ~10 s a segment


def _wrong_key(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/octet-stream"}, bytes(16)


def test_wrong_key_fetch_exits_fast_with_nothing_written(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    """Segment 0 fails to decrypt while segments 1-9 are in flight (slow, ~10 s each): exit 5
    well before any of them could finish, each time (the bug waited them out, 10 s about one
    run in eight; eight runs make a miss unlikely). Idle, each exit takes under 1 s; the
    6 s bound leaves room for a loaded 2-core machine and still fails the 10 s wait."""
    with MediaServer(hls_media.root) as srv:
        srv.add_route("aes/key.bin", _wrong_key)
        srv.set_faults("aes/128k_0000[1-9].ts", SLOW_SEGMENTS)
        times = []
        for run in range(8):
            out = tmp_path / f"run{run}" / "out.ts"
            out.parent.mkdir()
            t0 = time.monotonic()
            proc = fetch(srv.url("aes/master.m3u8"), "-o", str(out), "-q", timeout=30)
            times.append(time.monotonic() - t0)
            assert proc.returncode == 5, proc.stderr
            assert "Traceback" not in proc.stderr
            assert_nothing_written(out)
    print(f"exit times: {', '.join(f'{t:.2f}' for t in times)} s")
    assert max(times) < 6.0, times


def test_a_cancel_as_the_connection_opens_is_never_lost(server: MediaServer) -> None:
    """Cancels at random moments in a request's first milliseconds (connecting, sending,
    waiting for headers): every outcome comes within 2 s. The body is slow (10 s), so a lost
    cancel shows as a command still running."""
    server.set_faults("small.bin", Faults(rate_per_conn=20_000))
    rng = random.Random(14)
    stuck = 0
    with Downloader(EventBus(), max_concurrent=8) as dl:
        for _ in range(150):
            handle = dl.submit(FetchCmd(url=server.url("small.bin"), sink=lambda o, d: None))
            time.sleep(rng.uniform(0.0, 0.004))
            handle.cancel("user")
            try:
                outcome = handle.result(timeout=2)
            except concurrent.futures.TimeoutError:
                stuck += 1
                continue
            assert outcome.state in ("cancelled", "ok")
    assert stuck == 0, f"{stuck} of 150 cancelled commands went on running"
