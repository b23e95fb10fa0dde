"""A replay of a cached HLS stream stays on the variant the cache holds.

Cache hits are no throughput samples, so a replay runs on the ABR's start-up default estimate
(500 kbit/s: 0.7 x of it carries only the 64k rung of this ladder). The ABR is told what the
cache holds and starts on the cached 384k variant; the server's log shows the replay asked
for no other variant's playlist or segments.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media import build_ladder
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}


@pytest.fixture(scope="module")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay-variant")
    build_ladder(root / "hls", 6.0, bitrates=(64_000, 384_000))
    # The tone needs ~300 kbit/s at most; the master advertises the top variant's nominal
    # rate, as real ones do, so the default estimate (0.7 x 500k) would not carry it.
    master = root / "hls" / "master.m3u8"
    lines = master.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line == "384k.m3u8") - 1
    lines[at] = '#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="mp4a.40.2"'
    master.write_text("\n".join(lines) + "\n")
    return root


def play(url: str, cache: Path, *extra: str) -> list[str]:
    proc = run_cli(
        "play", url, "--no-ui", "--output", "null", "--cache-dir", str(cache), *extra,
        timeout=60, env=ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.splitlines()


@pytest.mark.parametrize("cache_control", ["public, max-age=86400", "no-cache"])
def test_a_replay_asks_for_no_other_variant(
    ladder: Path, tmp_path: Path, cache_control: str
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(ladder) as srv:
        srv.set_faults("*", Faults(cache_control=cache_control))
        url = srv.url("hls/master.m3u8")
        play(url, cache, "--abr", "fixed:1")  # the first play: the 384k variant, cached
        first = [r.path for r in srv.stats.requests()]
        assert "hls/384k.m3u8" in first and not any("64k" in p for p in first)
        n = len(first)
        play(url, cache)  # auto: the default estimate alone would start on 64k
        again = [r.path for r in srv.stats.requests()[n:]]
    # Revalidation (no-cache) at most: the master and the cached variant's playlist.
    assert set(again) <= {"hls/master.m3u8", "hls/384k.m3u8"}, again


def test_a_seek_in_a_cached_replay_stays_on_the_cached_variant(tmp_path: Path) -> None:
    """After a seek the buffer is empty: on the default estimate the throughput rule would
    take the 64k variant (a 256k segment cannot land in 0.5 s at 500 kbit/s), whose playlist
    and segments the network must serve. The cache serves the 256k one: it stays."""
    from kithara_cli.cache import open_cache
    from kithara_cli.dl import Downloader
    from kithara_cli.events import EventBus
    from kithara_cli.events.types import PlaybackStarted, SeekCompleted
    from kithara_cli.play import Player, PlayerSettings

    root = tmp_path / "media"
    build_ladder(root / "hls", 16.0, bitrates=(64_000, 256_000))
    cache_dir = tmp_path / "cache"
    with MediaServer(root) as srv:
        srv.set_faults("*", Faults(cache_control="public, max-age=86400"))
        url = srv.url("hls/master.m3u8")
        play(url, cache_dir, "--abr", "fixed:1")  # every 256k segment, cached
        n = len(srv.stats.requests())
        bus = EventBus()
        seen: list[object] = []
        got = threading.Event()

        def on(event: object) -> None:
            if isinstance(event, PlaybackStarted | SeekCompleted):
                seen.append(event)
                got.set()

        bus.subscribe(on)
        cache = open_cache(cache_dir)
        try:
            with Downloader(bus, cache=cache) as dl:
                player = Player(bus, PlayerSettings(output="null"), dl)
                try:
                    player.open(url)
                    assert got.wait(20) and isinstance(seen[0], PlaybackStarted)
                    got.clear()
                    player.seek_to(11.0)
                    assert got.wait(20) and isinstance(seen[-1], SeekCompleted)
                    assert player.error is None
                finally:
                    player.close()
        finally:
            cache.close()
        again = [r.path for r in srv.stats.requests()[n:]]
    assert not any("64k" in p for p in again), again
