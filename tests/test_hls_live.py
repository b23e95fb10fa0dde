"""Live HLS fetch: a playlist that grows while the CLI follows it.

The live playlist is computed per request (``MediaServer.add_route``): it reveals one more
segment of a prebuilt 20 s ladder every ``INTERVAL`` seconds in a sliding window, and claims
EXT-X-TARGETDURATION:1 so the follower reloads quickly (the EXTINF durations stay honest).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import (
    HlsMedia,
    assert_tone,
    concat,
    fetch,
    play,
    popen_fetch,
    wait_for,
)
from kithara_cli.file.state import part_paths
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media  # fixtures shared with the other HLS tests
hls_server = hls_fixtures.hls_server

INTERVAL = 0.5
START_VISIBLE = 5  # segments in the playlist at the first request
LIVE_EDGE = 3  # the CLI's default: start 3 segments back
WINDOW = 8
VARIANT = 1


class LivePlaylist:
    """Route handler: a live window over ``names`` that grows by one every INTERVAL seconds."""

    def __init__(
        self,
        names: list[str],
        durations: list[float],
        *,
        ends: bool,
        clock: list[float | None] | None = None,
    ) -> None:
        self.names = names
        self.durations = durations
        self.ends = ends
        self.t0 = clock if clock is not None else [None]  # shared: variants grow in step
        self.lock = threading.Lock()
        self.requests = 0

    def visible(self, now: float) -> int:
        with self.lock:
            if self.t0[0] is None:
                self.t0[0] = now
            self.requests += 1
            return min(len(self.names), START_VISIBLE + int((now - self.t0[0]) / INTERVAL))

    def __call__(self, path: str, query: dict[str, str], now: float):
        visible = self.visible(now)
        body = hls_fixtures.live_window(self.names, self.durations, visible, WINDOW, self.ends)
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body


def live_route(hls_media: HlsMedia, server: MediaServer, *, ends: bool) -> tuple[str, list[Path]]:
    ladder = hls_media.ts
    segments = ladder.segments[VARIANT]
    handler = LivePlaylist([p.name for p in segments], ladder.segment_durations[VARIANT], ends=ends)
    server.add_route("ts/live.m3u8", handler)
    return server.url("ts/live.m3u8"), segments


FIRST = START_VISIBLE - LIVE_EDGE  # index of the first segment a live fetch writes


def play_to_wav(url: str, tmp_path: Path) -> tuple[Path, list[dict]]:
    """``kithara play URL`` to a WAV file; the file and the events it published."""
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    proc = play(url, "--output", f"wav:{wav}", "--events", str(events))
    assert proc.returncode == 0, proc.stderr
    return wav, [json.loads(line) for line in events.read_text().splitlines()]


def live_master(hls_media: HlsMedia, server: MediaServer) -> str:
    """A master over both variants of the ladder, each a live playlist (``live{v}.m3u8``);
    they grow in step, with the same media sequence numbers, and end together."""
    ladder = hls_media.ts
    clock: list[float | None] = [None]
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for v, bitrate in enumerate(hls_fixtures.BITRATES):
        names = [p.name for p in ladder.segments[v]]
        handler = LivePlaylist(names, ladder.segment_durations[v], ends=True, clock=clock)
        server.add_route(f"ts/live{v}.m3u8", handler)
        lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={bitrate},CODECS="mp4a.40.2"', f"live{v}.m3u8"]
    server.add_route("ts/live-master.m3u8", hls_fixtures.static("\n".join(lines) + "\n"))
    return server.url("ts/live-master.m3u8")


def test_live_follows_until_endlist(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    url, segments = live_route(hls_media, hls_server, ends=True)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(segments[FIRST:]), "exactly the live edge onwards"
    assert len(hls_server.stats.requests("ts/live.m3u8")) >= 3, "the playlist was reloaded"
    for seg in segments[FIRST:]:
        assert len(hls_server.stats.requests(f"ts/{seg.name}")) == 1
    for seg in segments[:FIRST]:
        assert not hls_server.stats.requests(f"ts/{seg.name}"), "nothing behind the live edge"
    seconds = sum(hls_media.ts.segment_durations[VARIANT][FIRST:])
    assert_tone(out, seconds, first=round(sum(hls_media.ts.segment_durations[VARIANT][:FIRST])))
    assert list(tmp_path.iterdir()) == [out]


def test_live_edge_option(hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path) -> None:
    """--live-edge 1 starts at the newest segment; --duration stops once 7 s are written."""
    url, segments = live_route(hls_media, hls_server, ends=False)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q", "--live-edge", "1", "--duration", "7")
    assert proc.returncode == 0, proc.stderr
    first = START_VISIBLE - 1
    durations = hls_media.ts.segment_durations[VARIANT]
    count = next(n for n in range(1, 10) if sum(durations[first : first + n]) >= 7)
    assert count == 4, "7 s needs four 2 s segments, three of them not yet published at start"
    assert out.read_bytes() == concat(segments[first : first + count])


def test_live_duration_stops_early(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """No ENDLIST ever comes: --duration alone ends the fetch, with whole segments."""
    url, segments = live_route(hls_media, hls_server, ends=False)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q", "--duration", "7")
    assert proc.returncode == 0, proc.stderr
    # From segment FIRST: 2.02 + 2.0 + 2.0 < 7 <= + 2.0, so four segments; the fourth was
    # published only after the first reload.
    assert out.read_bytes() == concat(segments[FIRST : FIRST + 4])
    assert_tone(out, sum(hls_media.ts.segment_durations[VARIANT][FIRST : FIRST + 4]), first=4)


def test_ctrl_c_on_live_finishes_the_output(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    url, segments = live_route(hls_media, hls_server, ends=False)
    out = tmp_path / "out.ts"
    part, state = part_paths(out)
    proc = popen_fetch(url, "-o", str(out), "-q")
    three = len(concat(segments[FIRST : FIRST + 3]))
    try:
        wait_for(lambda: part.exists() and part.stat().st_size >= three, what="3 segments")
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert not part.exists() and not state.exists()
    data = out.read_bytes()
    written = next(
        n
        for n in range(3, len(segments) - FIRST + 1)
        if len(concat(segments[FIRST : FIRST + n])) >= len(data)
    )
    assert data == concat(segments[FIRST : FIRST + written]), "whole segments, in order"
    assert_tone(out, sum(hls_media.ts.segment_durations[VARIANT][FIRST : FIRST + written]), first=4)


def test_play_follows_a_live_playlist_until_endlist(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """``kithara play`` of a live playlist: from 3 segments before its end, reloading it as it
    grows, until ENDLIST; the audio is exactly that stretch, second by second."""
    url, segments = live_route(hls_media, hls_server, ends=True)
    wav, lines = play_to_wav(url, tmp_path)
    durations = hls_media.ts.segment_durations[VARIANT]
    assert_tone(wav, sum(durations[FIRST:]), first=round(sum(durations[:FIRST])))
    notices = [e["message"] for e in lines if e["event"] == "Notice"]
    assert any("following v0 from 3 segments before its end" in m for m in notices), notices
    assert len(hls_server.stats.requests("ts/live.m3u8")) >= 3, "the playlist was reloaded"
    for seg in segments[:FIRST]:
        assert not hls_server.stats.requests(f"ts/{seg.name}"), "nothing behind the live edge"
    loaded = [e["sequence"] for e in lines if e["event"] == "SegmentLoaded"]
    assert loaded == list(range(FIRST, len(segments)))
    assert "EndOfStream" in {e["event"] for e in lines}


def test_play_of_a_live_playlist_that_never_ends_stops_at_length(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """No ENDLIST: playback goes on past the 3 segments (~6 s) listed from the live edge at
    the start, and --length ends it (a file sink may run up to a segment past it)."""
    url, _ = live_route(hls_media, hls_server, ends=False)
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}", "--length", "9")
    assert proc.returncode == 0, proc.stderr
    pcm = hls_fixtures.decode(wav)
    assert 9.0 <= pcm.shape[0] / hls_fixtures.RATE <= 11.0
    first = round(sum(hls_media.ts.segment_durations[VARIANT][:FIRST]))
    heard = hls_fixtures.tone_seconds(pcm)
    assert heard == list(range(first, first + len(heard))), heard  # from the live edge on


def test_play_of_a_live_playlist_that_lists_nothing_yet_waits_for_it(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live stream that has not published a segment yet: play waits for the first ones (an
    error before), then plays everything from the first."""
    monkeypatch.setattr(sys.modules[__name__], "START_VISIBLE", 0)
    url, segments = live_route(hls_media, hls_server, ends=True)
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert_tone(wav, sum(hls_media.ts.segment_durations[VARIANT]))
    assert len(hls_server.stats.requests(f"ts/{segments[0].name}")) == 1


def test_play_skips_live_segments_the_server_no_longer_has(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Two live segments answer 404 (as after a pause longer than the server's window): play
    says so, skips towards the live edge and goes on, instead of ending with the error."""
    url, segments = live_route(hls_media, hls_server, ends=True)
    for seg in segments[FIRST + 1 : FIRST + 3]:
        hls_server.set_faults(f"ts/{seg.name}", Faults(fail_first=1000, fail_status=404))
    wav, lines = play_to_wav(url, tmp_path)
    notices = [e["message"] for e in lines if e["event"] == "Notice"]
    assert any("is gone from the server" in m for m in notices), notices
    loaded = [e["sequence"] for e in lines if e["event"] == "SegmentLoaded"]
    assert loaded[0] == FIRST and loaded[-1] == len(segments) - 1, loaded
    assert not {FIRST + 1, FIRST + 2} & set(loaded)
    heard = hls_fixtures.tone_seconds(hls_fixtures.decode(wav))
    first = round(sum(hls_media.ts.segment_durations[VARIANT][:FIRST]))
    resumed = round(sum(hls_media.ts.segment_durations[VARIANT][: loaded[1]]))
    assert heard[:2] == [first, first + 1], heard
    assert heard[2:] == list(range(resumed, resumed + len(heard) - 2)), heard


def test_live_play_switches_variants_when_the_followed_one_fails(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """A live master: playback follows the ABR's start-up pick (128k), and when that
    variant's segments start failing, the segment fails over and auto ABR goes on with 64k,
    the same media sequence numbers from the other live playlist, to ENDLIST. Before, live
    play was held on its first variant and ended with the failure."""
    url = live_master(hls_media, hls_server)
    top = hls_media.ts.segments[1]
    for seg in top[FIRST + 2 :]:
        hls_server.set_faults(f"ts/{seg.name}", Faults(fail_first=1000, fail_status=503))
    wav, lines = play_to_wav(url, tmp_path)
    notices = [e["message"] for e in lines if e["event"] == "Notice"]
    assert any("following v1 from 3 segments before its end" in m for m in notices), notices
    assert any("v1 left out for 30 s" in m for m in notices), notices
    loaded = [(e["sequence"], e["variant"]) for e in lines if e["event"] == "SegmentLoaded"]
    assert [seq for seq, _ in loaded] == list(range(FIRST, len(top))), loaded
    assert [v for seq, v in loaded if seq < FIRST + 2] == [1, 1], loaded
    assert {v for seq, v in loaded if seq >= FIRST + 2} == {0}, loaded
    assert hls_server.stats.requests("ts/live0.m3u8"), "the other variant's playlist was read"
    durations = hls_media.ts.segment_durations[1]
    assert_tone(wav, sum(durations[FIRST:]), first=round(sum(durations[:FIRST])))
    assert "EndOfStream" in {e["event"] for e in lines}
