"""Live HLS as CDNs serve it: playlist reloads that miss at an edge, stale copies, a dead
playlist endpoint. The playlist is computed per request over a prebuilt 20 s ladder (as
tests/test_hls_live.py), and each request can be answered by a ``Script`` step instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, assert_tone, concat, fetch, play
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

INTERVAL = 0.5
START_VISIBLE = 5
LIVE_EDGE = 3
WINDOW = 8
VARIANT = 1
FIRST = START_VISIBLE - LIVE_EDGE

Reply = tuple[int, dict[str, str], bytes]


class LiveScript:
    """A live window over ``names`` growing by one every INTERVAL s, ending with ENDLIST;
    ``override(n, visible)`` may answer the n-th request (1-based) instead."""

    def __init__(
        self,
        names: list[str],
        durations: list[float],
        override: Callable[[int, int], Reply | None] | None = None,
        *,
        ends: bool = True,
    ) -> None:
        self.names = names
        self.durations = durations
        self.override = override
        self.ends = ends
        self.t0: float | None = None
        self.lock = threading.Lock()
        self.requests = 0

    def text(self, visible: int) -> bytes:
        return hls_fixtures.live_window(self.names, self.durations, visible, WINDOW, self.ends)

    def __call__(self, path: str, query: dict[str, str], now: float) -> Reply:
        with self.lock:
            if self.t0 is None:
                self.t0 = now
            self.requests += 1
            n = self.requests
            visible = min(len(self.names), START_VISIBLE + int((now - self.t0) / INTERVAL))
        if self.override is not None:
            reply = self.override(n, visible)
            if reply is not None:
                return reply
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, self.text(visible)


def live(
    hls_media: HlsMedia, server: MediaServer, override: Callable[[int, int], Reply | None]
) -> tuple[str, list[Path], LiveScript]:
    ladder = hls_media.ts
    segments = ladder.segments[VARIANT]
    script = LiveScript(
        [p.name for p in segments], ladder.segment_durations[VARIANT], override=override
    )
    server.add_route("ts/live.m3u8", script)
    return server.url("ts/live.m3u8"), segments, script


def test_a_reload_that_misses_at_the_edge_is_not_the_end_of_the_stream(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """A CDN edge answers a playlist reload 404 twice (the new playlist has not reached it
    yet) and then serves it again: the live fetch goes on to ENDLIST, as hls.js and FFmpeg
    ride over a failed reload. Before, the first 404 ended the fetch (exit 4) and the
    recording was thrown away."""

    def edge_miss(n: int, visible: int) -> Reply | None:
        return (404, {}, b"not found\n") if n in (3, 4) else None

    url, segments, script = live(hls_media, hls_server, edge_miss)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert script.requests > 4
    assert out.read_bytes() == concat(segments[FIRST:])


def test_a_stale_copy_from_another_edge_neither_repeats_nor_loses_segments(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Every other reload comes from an edge two segments behind (an older media sequence):
    nothing is written twice, nothing is skipped."""

    def stale(n: int, visible: int) -> Reply | None:
        if n > 1 and n % 2 == 0:
            older = max(START_VISIBLE, visible - 2)
            body = script.text(older) if older < visible else None
            if body is not None:
                return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body
        return None

    url, segments, script = live(hls_media, hls_server, stale)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(segments[FIRST:])
    seconds = sum(hls_media.ts.segment_durations[VARIANT][FIRST:])
    assert_tone(out, seconds, first=round(sum(hls_media.ts.segment_durations[VARIANT][:FIRST])))


def test_a_playlist_endpoint_that_dies_ends_a_live_fetch_with_exit_3(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """After two good loads, every reload answers 503: the fetch must not wait for ever. It
    ends with the network error (exit 3, one line) within a bound of target durations."""

    def dies(n: int, visible: int) -> Reply | None:
        return (503, {}, b"unavailable\n") if n > 2 else None

    url, _segments, _script = live(hls_media, hls_server, dies)
    out = tmp_path / "out.ts"
    started = time.monotonic()
    proc = fetch(url, "-o", str(out), "-q", "--retries", "1", timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    assert "503" in lines[0] and url in lines[0], lines[0]
    assert took < 30, took
    # A live recording cannot be resumed: no .part is left; what came is kept at --out
    # (session 16: tests/test_s16_hls_live_cut.py), and the error line says so.
    assert "the recording so far is saved in" in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ts"]


def test_play_of_a_live_stream_whose_playlist_dies_ends_with_exit_3(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    """Play, the same dead endpoint: the buffered audio plays out and play ends with the
    network error, instead of waiting silently for ever."""

    def dies(n: int, visible: int) -> Reply | None:
        return (503, {}, b"unavailable\n") if n > 2 else None

    url, _segments, _script = live(hls_media, hls_server, dies)
    proc = play(url, "--output", "null", "--retries", "1", timeout=60)
    assert proc.returncode == 3, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("kithara: error:")]
    assert len(errors) == 1 and "503" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_play_rides_over_a_reload_that_misses_at_the_edge(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Play, the same 404 twice on reload: the whole stream from the live edge is heard."""

    def edge_miss(n: int, visible: int) -> Reply | None:
        return (404, {}, b"not found\n") if n in (3, 4) else None

    url, _segments, _script = live(hls_media, hls_server, edge_miss)
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    durations = hls_media.ts.segment_durations[VARIANT]
    assert_tone(wav, sum(durations[FIRST:]), first=round(sum(durations[:FIRST])))


def test_a_live_segment_gone_before_it_was_fetched_is_a_gap_not_the_end(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """A live segment answers 404 (it left the server's window before it was fetched, or an
    edge lost it): the recording goes on without it, says so, and is saved, as play skips
    it. Before: the whole live fetch ended with exit 4 and nothing was kept."""
    url, segments, _script = live(hls_media, hls_server, lambda n, visible: None)
    gone = segments[FIRST + 2]
    hls_server.set_faults(f"ts/{gone.name}", Faults(fail_first=10**6, fail_status=404))
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    kept = [s for s in segments[FIRST:] if s != gone]
    assert out.read_bytes() == concat(kept)
    assert f"skipped segment {FIRST + 2}" in proc.stderr, proc.stderr


def _tokened(
    hls_media: HlsMedia, server: MediaServer, valid_for: int
) -> tuple[str, list[Path], LiveScript]:
    """``live-entry.m3u8`` redirects (302) to the live playlist at ``ts/live.m3u8?tok=N``, a
    new token each time; a token serves ``valid_for`` requests, then 403 (expired), as CDN
    edges hand out signed playlist URLs."""
    _, segments, script = live(hls_media, server, lambda n, visible: None)
    issued: dict[str, int] = {}
    lock = threading.Lock()

    def entry(path: str, query: dict[str, str], now: float) -> Reply:
        with lock:
            token = str(len(issued))
            issued[token] = 0
        return 302, {"Location": f"/ts/live.m3u8?tok={token}"}, b""

    def gate(path: str, query: dict[str, str], now: float) -> Reply:
        token = query.get("tok", "")
        with lock:
            if token not in issued or issued[token] >= valid_for:
                return 403, {}, b"token expired\n"
            issued[token] += 1
        return script(path, query, now)

    server.add_route("ts/live.m3u8", gate)
    server.add_route("live-entry.m3u8", entry)
    return server.url("live-entry.m3u8"), segments, script


def test_a_live_playlist_behind_a_signed_redirect_is_reloaded_through_it(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """The playlist URL redirects to a signed edge URL whose token expires after two uses:
    reloads go through the URL the user gave (a fresh token each time), as hls.js reloads a
    level's own URI. Before: the follower reloaded the expired edge URL, got 403 and the
    live fetch failed (exit 4)."""
    url, segments, _script = _tokened(hls_media, hls_server, valid_for=2)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(segments[FIRST:])


def test_play_reloads_a_live_playlist_through_its_signed_redirect(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Play, the same expiring edge tokens: the whole stream from the live edge is heard."""
    url, _segments, _script = _tokened(hls_media, hls_server, valid_for=2)
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    durations = hls_media.ts.segment_durations[VARIANT]
    assert_tone(wav, sum(durations[FIRST:]), first=round(sum(durations[:FIRST])))
