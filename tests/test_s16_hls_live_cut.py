"""A live HLS recording cut short by the stream, not by the user: kept, as a radio one is.

An encoder that stops without writing EXT-X-ENDLIST (FFmpeg's ``-hls_flags omit_endlist``, a
killed packager, an event that just ends) leaves a live playlist that never changes again;
an origin can also die (503) mid-stream. ``kithara fetch`` follows the playlist and, once it
has been unchanged for 3 target durations, ends with exit 5 (3 for a dead origin). Before,
that also deleted everything recorded: a two-hour event gone for want of one closing tag.
Now the segments written are finished at --out (as a radio recording cut short, and a live
HLS recording stopped with Ctrl-C, are) and the one error line says so. FFmpeg keeps its
output in both cases (its HLS demuxer reaches EOF after ``m3u8_hold_counters`` reloads).
"""

from __future__ import annotations

import threading
from pathlib import Path

import hls_fixtures
from hls_fixtures import (
    HlsMedia,
    assert_nothing_written,
    assert_one_line_error,
    assert_tone,
    concat,
    fetch,
)
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

VARIANT = 1
START_VISIBLE = 5  # segments listed at the first load
LIVE_EDGE = 3  # fetch starts this many before the end (the default --live-edge)
FIRST = START_VISIBLE - LIVE_EDGE
STALLS_AT = 8  # the playlist grows to this many segments, then never changes
INTERVAL = 0.5

Reply = tuple[int, dict[str, str], bytes]


class StallingLive:
    """A live playlist (target duration 1) that grows by a segment every INTERVAL s up to
    STALLS_AT segments, then is served unchanged, with no EXT-X-ENDLIST, for ever; from
    request ``dies_after`` on (if given) it answers 503 instead."""

    def __init__(self, media: HlsMedia, dies_after: int | None = None) -> None:
        self.names = [p.name for p in media.ts.segments[VARIANT]]
        self.durations = media.ts.segment_durations[VARIANT]
        self.dies_after = dies_after
        self.lock = threading.Lock()
        self.t0: float | None = None
        self.requests = 0
        self.visible = 0

    def __call__(self, path: str, query: dict[str, str], now: float) -> Reply:
        with self.lock:
            self.t0 = now if self.t0 is None else self.t0
            self.requests += 1
            if self.dies_after is not None and self.requests > self.dies_after:
                return 503, {"Content-Type": "text/plain"}, b"upstream gone\n"
            grown = START_VISIBLE + int((now - self.t0) / INTERVAL)
            self.visible = min(STALLS_AT, grown)
            body = hls_fixtures.live_window(self.names, self.durations, self.visible, 8, False)
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body


def _serve(media: HlsMedia, server: MediaServer, live: StallingLive) -> str:
    server.add_route("ts/live.m3u8", live)
    return server.url("ts/live.m3u8")


def _left_beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


def test_a_live_recording_whose_playlist_stops_changing_is_kept(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    live = StallingLive(hls_media)
    out = tmp_path / "event.ts"
    with MediaServer(hls_media.root) as server:
        proc = fetch(_serve(hls_media, server, live), "-o", str(out), "-q", timeout=60)
    assert proc.returncode == 5, proc.stderr  # still said: the stream did not end cleanly
    line = assert_one_line_error(proc, "unchanged", f"the recording so far is saved in {out}")
    assert "Traceback" not in proc.stderr, line
    segments = hls_media.ts.segments[VARIANT]
    # Every segment from the live edge to the last one listed, once each, in order.
    assert out.read_bytes() == concat(segments[FIRST:STALLS_AT])
    durations = hls_media.ts.segment_durations[VARIANT]
    assert_tone(out, sum(durations[FIRST:STALLS_AT]), first=round(sum(durations[:FIRST])))
    assert _left_beside(out) == []  # no FILE.part, no resume state


def test_a_live_recording_whose_origin_dies_is_kept_remuxed_with_exit_3(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    """The origin answers 503 after a few reloads: exit 3, the recording so far finished at
    --out, remuxed to the .m4a asked for."""
    live = StallingLive(hls_media, dies_after=4)
    out = tmp_path / "event.m4a"
    with MediaServer(hls_media.root) as server:
        proc = fetch(
            _serve(hls_media, server, live), "-o", str(out), "-q", "--retries", "1", timeout=60
        )
    assert proc.returncode == 3, proc.stderr
    assert_one_line_error(proc, "503", f"the recording so far is saved in {out}")
    durations = hls_media.ts.segment_durations[VARIANT]
    got = live.visible - FIRST
    assert got >= LIVE_EDGE, got
    assert_tone(out, sum(durations[FIRST : live.visible]), first=round(sum(durations[:FIRST])))
    assert _left_beside(out) == []


def test_a_live_fetch_that_recorded_nothing_still_leaves_nothing(tmp_path: Path) -> None:
    """No segment written (the one listed is no audio): the error alone, no file."""
    (tmp_path / "a.ts").write_bytes(b"<html>portal</html>\n")
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na.ts\n"
    (tmp_path / "live.m3u8").write_text(text)
    out = tmp_path / "o.ts"
    with MediaServer(tmp_path) as server:
        proc = fetch(server.url("live.m3u8"), "--out", str(out), "-q", timeout=30)
    assert proc.returncode == 5, proc.stderr
    assert "saved" not in proc.stderr
    assert_nothing_written(out)
