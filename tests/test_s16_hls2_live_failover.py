"""A live stream whose primary host dies mid-stream goes on from its backup stream.

Real masters list each variant twice (RFC 8216 6.2.3 redundant streams; AWS MediaLive's and
Akamai's two pipelines): the same BANDWIDTH and CODECS, the second on another host, the two
playlists numbered alike. When the primary's host goes down after playback or a recording
has started, hls.js moves the level to its redundant URL, ExoPlayer excludes the playlist
and loads the other, and the stream goes on.

Before, the live follower kept reloading the dead primary: ``kithara fetch`` ended after 3
target durations with exit 3 (the recording so far saved, the rest lost), and ``kithara
play`` stopped the same way. Now the follower's first failed reload (after 2 attempts, not
the whole retry policy) moves it to the backup at once, with a warning, and the recording or
playback goes on with no second missing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, concat, decode, fetch, play, tone_seconds, wait_for
from kithara_cli.server import MediaServer
from kithara_cli.server.faults import Faults

hls_media = hls_fixtures.hls_media

VARIANT = 1
START_VISIBLE = 5  # segments listed at the first load
INTERVAL = 0.4  # a new segment every INTERVAL s (faster than real time: a short test)

Reply = tuple[int, dict[str, str], bytes]


class LivePair:
    """One live playlist (target duration 1) served alike by a primary and a backup host, on
    one clock: both list the same segments under the same numbers, until ENDLIST once all of
    the 20 s ladder is listed."""

    def __init__(self, media: HlsMedia) -> None:
        self.names = [p.name for p in media.ts.segments[VARIANT]]
        self.durations = media.ts.segment_durations[VARIANT]
        self.lock = threading.Lock()
        self.t0: float | None = None

    def __call__(self, path: str, query: dict[str, str], now: float) -> Reply:
        with self.lock:
            self.t0 = now if self.t0 is None else self.t0
            visible = min(len(self.names), START_VISIBLE + int((now - self.t0) / INTERVAL))
        body = hls_fixtures.live_window(self.names, self.durations, visible, 8, True)
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body


def _master(media: HlsMedia, primary: MediaServer, backup: MediaServer) -> str:
    inf = f'#EXT-X-STREAM-INF:BANDWIDTH={media.ts.bandwidths[VARIANT]},CODECS="mp4a.40.2"'
    lines = ["#EXTM3U", inf, primary.url("ts/live.m3u8"), inf, backup.url("ts/live.m3u8")]
    return "\n".join(lines) + "\n"


def _kill_primary_once_used(primary: MediaServer, segments: int) -> threading.Thread:
    """Stop the primary host (connection refused from then on) once it has served
    ``segments`` segments: mid-stream, after the run has started."""

    def run() -> None:
        def served() -> bool:
            return sum(1 for r in primary.stats.requests() if r.path.endswith(".ts")) >= segments

        wait_for(served, 30, "the primary to serve segments")
        primary.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _servers(media: HlsMedia) -> tuple[MediaServer, MediaServer, str]:
    live = LivePair(media)
    primary, backup = MediaServer(media.root).start(), MediaServer(media.root).start()
    for server in (primary, backup):
        server.add_route("ts/live.m3u8", live)
    text = _master(media, primary, backup)
    backup.add_route("master.m3u8", hls_fixtures.static(text))
    return primary, backup, backup.url("master.m3u8")


def test_fetch_of_a_live_stream_goes_on_from_the_backup_when_the_primary_dies(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    primary, backup, url = _servers(hls_media)
    out = tmp_path / "live.ts"
    try:
        killer = _kill_primary_once_used(primary, 3)
        started = time.monotonic()
        proc = fetch(url, "-o", str(out), "--retries", "1", timeout=60)
        killer.join(5)
        took = time.monotonic() - started
    finally:
        primary.stop()
        backup.stop()
    assert proc.returncode == 0, proc.stderr
    assert "going on with its backup stream" in proc.stderr, proc.stderr
    assert backup.stats.requests("ts/live.m3u8"), "the backup was never asked"
    segments = hls_media.ts.segments[VARIANT]
    first = START_VISIBLE - 3  # the default --live-edge
    assert out.read_bytes() == concat(segments[first:])  # every segment, once, in order
    assert took < 20, took


def test_play_of_a_live_stream_goes_on_from_the_backup_when_the_primary_dies(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    primary, backup, url = _servers(hls_media)
    wav = tmp_path / "out.wav"
    try:
        killer = _kill_primary_once_used(primary, 3)
        proc = play(url, "--output", f"wav:{wav}", "--retries", "1", timeout=60)
        killer.join(5)
    finally:
        primary.stop()
        backup.stop()
    assert proc.returncode == 0, proc.stderr
    assert "going on with its backup stream" in proc.stderr, proc.stderr
    heard = tone_seconds(decode(wav))
    first = round(sum(hls_media.ts.segment_durations[VARIANT][: START_VISIBLE - 3]))
    assert heard == list(range(first, first + len(heard))), heard
    assert len(heard) >= round(hls_media.ts.seconds) - first - 1, heard  # to the end


def test_fetch_takes_a_live_segment_that_fails_on_the_primary_from_the_backup(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    """The primary's playlist still loads, but one segment answers 503 there (an origin
    that lost it): the backup's segment of that number is fetched instead of the recording
    ending (exit 3) at it."""
    primary, backup, url = _servers(hls_media)
    bad = hls_media.ts.segments[VARIANT][6].name
    primary.set_faults(f"ts/{bad}", Faults(fail_first=1000, fail_status=503))
    out = tmp_path / "live.ts"
    try:
        proc = fetch(url, "-o", str(out), "--retries", "1", timeout=60)
    finally:
        primary.stop()
        backup.stop()
    assert proc.returncode == 0, proc.stderr
    assert "segment 6 failed (HTTP 503" in proc.stderr, proc.stderr
    assert "fetching it from the backup stream" in proc.stderr, proc.stderr
    assert [r.path for r in backup.stats.requests() if r.path.endswith(".ts")] == [f"ts/{bad}"]
    segments = hls_media.ts.segments[VARIANT]
    assert out.read_bytes() == concat(segments[START_VISIBLE - 3 :])
