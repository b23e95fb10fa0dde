"""The progressive playback source: a bounded start-up request, the rest once playback starts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.file.source import START_UP_BYTES, ProgressiveSource
from kithara_cli.server import Faults, MediaServer


def _wait(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("ignore_range", [False, True])
def test_start_up_fetch_is_bounded_until_playback_starts(
    server: MediaServer, blob_root: Path, tmp_path: Path, ignore_range: bool
) -> None:
    """Before first audio only the first START_UP_BYTES are taken in (whole files arrive at
    once on a fast link, and taking them costs start-up CPU); playback_started fetches the
    rest. A server that ignores Range: its first request is read on (s16: a second would
    start at byte 0 again), the whole file in one request."""
    name = "big.bin"
    size = (blob_root / name).stat().st_size
    assert size > 4 * START_UP_BYTES
    server.set_faults(name, Faults(ignore_range=ignore_range))
    with Downloader(EventBus()) as dl:
        source = ProgressiveSource(dl, server.url(name), tmp_path / "cache.bin")
        try:
            source.start(0)
            resource = source.resource
            assert _wait(lambda: resource.contains(0, START_UP_BYTES))
            time.sleep(0.3)  # nothing more comes in while playback has not started
            if ignore_range:
                assert resource.contains(0, size)
                assert len(server.stats.requests(name)) == 1
            else:
                assert resource.gaps(0, size) == [(START_UP_BYTES, size)]
            source.playback_started()
            assert _wait(lambda: resource.contains(0, size))
            got = resource.read_at(0, size)
        finally:
            source.close()
    assert got == (blob_root / name).read_bytes()


def test_a_read_past_the_start_up_bytes_is_fetched_on_demand(
    server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    """A demuxer that needs more than the start-up bytes before the first audio gets them."""
    name = "big.bin"
    with Downloader(EventBus()) as dl:
        source = ProgressiveSource(dl, server.url(name), tmp_path / "cache.bin")
        try:
            source.start(0)
            at = START_UP_BYTES + 100_000
            assert _wait(lambda: source.resource.total is not None)
            source.reader_moved(at)
            n = source.wait_readable(at, 4096)
            got = source.read_at(at, n)
        finally:
            source.close()
    assert n > 0 and got == (blob_root / name).read_bytes()[at : at + n]
