"""EXT-X-GAP segments in a live playlist are not "missed".

A GAP is the server saying it has no media there (RFC 8216bis 4.4.4.7); the model leaves such
segments out, so a live reload whose first new segment came after one saw a hole in the
numbers and warned "N segment(s) missed", as for segments that slid out of the window unseen
(a loss). Now the two are told apart: a gap is stepped over with a note of its own, and
"missed" counts only numbers the playlist never showed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, concat, fetch
from kithara_cli.hls.model import MediaPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.sequence import SequenceTracker
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

VARIANT = 1


def window(first: int, last: int, gaps: set[int], end: bool = False) -> MediaPlaylist:
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    for n in range(first, last + 1):
        lines += (["#EXT-X-GAP"] if n in gaps else []) + ["#EXTINF:2,", f"s{n}.ts"]
    media = parse_playlist(
        "\n".join(lines + (["#EXT-X-ENDLIST"] if end else [])) + "\n", "http://h/"
    )
    assert isinstance(media, MediaPlaylist)
    return media


def test_a_gap_is_stepped_over_not_missed() -> None:
    tracker = SequenceTracker(window(0, 4, set()))
    taken = tracker.take(window(2, 7, {5}))  # 5 is a gap, 6 and 7 are new
    assert [s.sequence for s in taken.segments] == [6, 7]
    assert (taken.missed, taken.gaps) == (0, 1)


def test_missed_and_gaps_counted_apart() -> None:
    """The window slid past 8 unseen (missed) and lists 9 and 11 as gaps."""
    tracker = SequenceTracker(window(0, 7, set()))
    taken = tracker.take(window(9, 13, {9, 11}))
    assert [s.sequence for s in taken.segments] == [10, 12, 13]
    assert (taken.missed, taken.gaps) == (1, 2)
    # A gap at the window's end is counted once, when a segment after it comes.
    taken = tracker.take(window(10, 15, {11, 15}))
    assert [s.sequence for s in taken.segments] == [14]
    assert (taken.missed, taken.gaps) == (0, 0)
    taken = tracker.take(window(12, 16, {15}))
    assert [s.sequence for s in taken.segments] == [16]
    assert (taken.missed, taken.gaps) == (0, 1)


class GapLive:
    """A live playlist whose first reload brings segment 5 marked EXT-X-GAP and segment 6;
    every later one two more, until all ten are listed and it ends."""

    def __init__(self, names: list[str], durations: list[float], gap: int) -> None:
        self.names, self.durations, self.gap = names, durations, gap
        self.requests = 0
        self.lock = threading.Lock()

    def __call__(self, path: str, query: dict[str, str], now: float):
        with self.lock:
            self.requests += 1
            visible = min(len(self.names), 5 + 2 * (self.requests - 1))
        lines = ["#EXTM3U", "#EXT-X-VERSION:8", "#EXT-X-TARGETDURATION:1"]
        lines.append("#EXT-X-MEDIA-SEQUENCE:0")
        for i in range(visible):
            if i == self.gap:
                lines.append("#EXT-X-GAP")
            lines += [f"#EXTINF:{self.durations[i]:.6f},", self.names[i]]
        if visible == len(self.names):
            lines.append("#EXT-X-ENDLIST")
        body = ("\n".join(lines) + "\n").encode()
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body


def test_live_fetch_reports_a_gap_apart_from_missed_segments(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    gap = 5
    segments = hls_media.ts.segments[VARIANT]
    live = GapLive([p.name for p in segments], hls_media.ts.segment_durations[VARIANT], gap)
    hls_server.add_route("ts/gaplive.m3u8", live)
    hls_server.set_faults(f"ts/{segments[gap].name}", Faults(fail_first=10**6, fail_status=404))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/gaplive.m3u8"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "missed" not in proc.stderr, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "stepped over" in line]
    assert len(notes) == 1 and "1 segment(s) marked EXT-X-GAP" in notes[0], proc.stderr
    first = 5 - 3  # the live edge: three segments back
    assert out.read_bytes() == concat(segments[first:gap] + segments[gap + 1 :])
    assert not hls_server.stats.requests(f"ts/{segments[gap].name}"), "a gap is never asked"
